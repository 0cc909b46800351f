/**
 * The TCP layer's entry point: segments in, finished connections out.
 *
 * It owns the flow table, decides when a packet starts a new connection (the first packet of a
 * 4-tuple, a reused 4-tuple, or a packet after Zeek's timers would have removed the old one),
 * which side is the originator (Zeek's WantConnection and role flips), and hands connections
 * to the sink once they are over — as soon as their timers say so, so memory grows with live
 * connections, not with the capture.
 */
import { TH_ACK, TH_FIN, TH_RST, TH_SYN, type PacketView } from '../dissect/packet.js';
import { Connection } from './connection.js';
import { EndpointState } from './endpoint.js';
import { FlowTable, flowHash } from './flow-table.js';
import { isCaptureCopy } from './capture-copy.js';
import { msSince, noteSegment } from './evidence.js';
import { processSegment } from './tcp-session.js';
import { TimerWheel } from './timer-wheel.js';
import { advanceTimers, HANDSHAKE_INACTIVITY_TIMEOUT, removalTime, TCP_CONNECTION_LINGER, TCP_SYN_TIMEOUT } from './timers.js';

/** Why a connection was handed to the sink. */
export type EndReason = 'timeout' | 'reused' | 'end_of_capture';

/**
 * Receives each connection once it is over. The object is the sink's only during the call: the
 * tracker reuses it for a later connection (tens of thousands end per second, and reusing them
 * spares the garbage collector from copying every one of them while it is alive).
 */
export type ConnectionSink = (c: Connection, reason: EndReason, endTime: number) => void;

/**
 * Ports whose presence on the source of a connection's first packet (when that packet is not a
 * plain SYN) makes the source the responder. Zeek derives this set from the analyzers it loads;
 * this is the set of its default analyzers' well-known TCP ports.
 */
export const DEFAULT_LIKELY_SERVER_PORTS: ReadonlySet<number> = new Set([
  21, 22, 23, 25, 53, 80, 81, 88, 102, 111, 135, 139, 143, 389, 443, 445, 502, 513, 514, 563, 585, 587, 614, 631, 636, 989, 990, 992,
  993, 995, 1080, 1433, 1883, 2049, 2811, 3128, 3268, 3306, 3389, 5060, 5222, 5223, 5269, 5432, 6379, 6666, 6667, 6668, 6669, 8000, 8080,
  8888, 20000,
]);

export interface TrackerOptions {
  likelyServerPorts?: ReadonlySet<number>;
}

export interface TrackerStats {
  connections: number;
  /** Packets dropped as copies of one captured on another interface (capture-copy.ts). */
  captureCopies: number;
  icmpErrorsAttributed: number;
  icmpErrorsUnmatched: number;
  peakLiveConnections: number;
}

export class TcpTracker {
  readonly stats: TrackerStats = { connections: 0, captureCopies: 0, icmpErrorsAttributed: 0, icmpErrorsUnmatched: 0, peakLiveConnections: 0 };
  private readonly table = new FlowTable();
  private readonly wheel = new TimerWheel();
  private readonly expireVisitor = (c: Connection): void => this.expireOne(c);
  private readonly sink: ConnectionSink;
  private readonly serverPorts: ReadonlySet<number>;
  /** Ended connections, ready to be reused. */
  private readonly spare: Connection[] = [];
  private nextId = 1;
  /** Network time: the latest packet time seen. */
  private now = -Infinity;
  /** The interface every segment so far came from, until a second one is seen (capture-copy.ts). */
  private onlyCaptureIf = 0;
  private manyInterfaces = false;

  constructor(sink: ConnectionSink, options: TrackerOptions = {}) {
    this.sink = sink;
    this.serverPorts = options.likelyServerPorts ?? DEFAULT_LIKELY_SERVER_PORTS;
  }

  get liveConnections(): number {
    return this.table.size;
  }

  /** The segment's connection; null if the segment is a copy of one captured on another interface (counted, not processed). */
  segment(v: PacketView): Connection | null {
    const t = v.ts;
    if (t > this.now) {
      this.now = t;
      if (t >= this.wheel.nextDue) this.wheel.expire(t, this.expireVisitor);
    }
    const hash = flowHash(v);
    const flags = v.flags;
    let c = this.table.find(hash, v);
    // Copies come from a second interface: until one shows up there is nothing to compare.
    if (v.captureIf !== this.onlyCaptureIf && !this.manyInterfaces) {
      if (this.stats.connections === 0) this.onlyCaptureIf = v.captureIf;
      else this.manyInterfaces = true;
    }
    if (this.manyInterfaces && c !== null && isCaptureCopy(c, v)) {
      this.stats.captureCopies++;
      return null;
    }
    // Fast path: no timer can have fired unless the connection was quiet for the linger time
    // (every inactivity timeout is longer) or an attempt/delete timer is due.
    if (c !== null && (t > c.lastTime + TCP_CONNECTION_LINGER || t >= c.attemptAt || t >= c.deleteAt)) c = this.runTimers(c, v);
    if (c !== null && flags & TH_SYN && this.isReuse(c, v)) {
      this.end(c, 'reused', t);
      c = null;
    }
    if (c === null) {
      c = this.create(v, hash);
    } else if (c.history === 'H' && !(flags & (TH_SYN | TH_FIN | TH_RST))) {
      // Started with a SYN-ACK that was not flipped at creation: the SYN-ACK's sender is the responder.
      c.flipRoles();
      c.history = '^h';
    }
    const isOrig = c.isFromOrig(v.src0, v.src1, v.src2, v.src3, v.srcPort);
    // The endpoints as they stand now: processSegment may flip the roles, the objects stay.
    const sender = isOrig ? c.orig : c.resp;
    const receiver = isOrig ? c.resp : c.orig;
    processSegment(c, isOrig, v);
    // tcpsleuth's evidence for the diagnosis (reads the packet, never Zeek's state). Called here,
    // not inside processSegment, so that function stays small enough for V8 to inline its helpers.
    if (!v.badChecksum) noteSegment(sender.ev, receiver.ev, v, msSince(t, c.startTime));
    c.lastFrame = v.frame;
    c.lastPacketTime = t;
    if (v.tunnelDepth > c.tunnelDepth) c.tunnelDepth = v.tunnelDepth;
    // Control segments can bring the removal time forward (a close arms the delete timer).
    if (flags & (TH_SYN | TH_FIN | TH_RST)) {
      const due = removalTime(c);
      if (due < c.scheduledAt) this.schedule(c, due);
    }
    return c;
  }

  /**
   * The timers of a connection that may have fired by this packet's time: null if they removed
   * it (it is handed to the sink), else the connection with its timers brought forward. It takes
   * the packet, not its time: a double passed to a call is boxed, and V8 boxes it where it is
   * defined, so `segment` would allocate a number for every packet to serve this rare path.
   */
  private runTimers(c: Connection, v: PacketView): Connection | null {
    const t = v.ts;
    const removeAt = removalTime(c);
    if (removeAt <= t) {
      this.end(c, 'timeout', removeAt);
      return null;
    }
    advanceTimers(c, t);
    return c;
  }

  /**
   * Moves network time on without a packet: a live capture that went quiet (analyze's follow
   * mode). Connections whose timers ran out by `t` end, as the next packet would have ended them.
   */
  advanceTo(t: number): void {
    if (t <= this.now) return;
    this.now = t;
    if (t >= this.wheel.nextDue) this.wheel.expire(t, this.expireVisitor);
  }

  /** An ICMP error quoting a segment: attributed to the connection, if it is live. */
  icmpError(v: PacketView): Connection | null {
    const c = this.table.find(flowHash(v), v);
    if (c === null) {
      this.stats.icmpErrorsUnmatched++;
      return null;
    }
    this.stats.icmpErrorsAttributed++;
    if (c.icmpErrors++ === 0) {
      c.icmpFirstFrame = v.frame;
      c.icmpType = v.icmpType;
      c.icmpCode = v.icmpCode;
    }
    return c;
  }

  /**
   * End of input: every live connection is finished as it stands (Zeek's Drain); one whose
   * timers had already run out by the last packet is reported as timed out, exactly as if the
   * wheel had reached it.
   */
  finish(): void {
    const live = [...this.table.all()].sort((a, b) => a.id - b.id);
    for (const c of live) {
      const removeAt = removalTime(c);
      if (removeAt <= this.now) this.end(c, 'timeout', removeAt);
      else this.end(c, 'end_of_capture', c.lastPacketTime);
    }
  }

  private create(v: PacketView, hash: number): Connection {
    const flags = v.flags;
    let flip = false;
    // Zeek's WantConnection: a first packet that is not a plain SYN is guessed by its ports.
    if (!(flags & TH_SYN) || flags & TH_ACK) {
      if (this.serverPorts.has(v.srcPort)) {
        flip = this.serverPorts.has(v.dstPort) ? !(flags & TH_SYN) && v.srcPort < v.dstPort : true;
      }
    }
    const id = this.nextId++;
    let c = this.spare.pop();
    if (c === undefined) c = new Connection(id, hash, v.ts, v.frame, v.tunnelDepth, HANDSHAKE_INACTIVITY_TIMEOUT, v.ts + TCP_SYN_TIMEOUT);
    else c.begin(id, hash, v.ts, v.frame, v.tunnelDepth, HANDSHAKE_INACTIVITY_TIMEOUT, v.ts + TCP_SYN_TIMEOUT);
    c.origA0 = v.src0;
    c.origA1 = v.src1;
    c.origA2 = v.src2;
    c.origA3 = v.src3;
    c.origPort = v.srcPort;
    c.respA0 = v.dst0;
    c.respA1 = v.dst1;
    c.respA2 = v.dst2;
    c.respA3 = v.dst3;
    c.respPort = v.dstPort;
    if (flip) c.flipRoles();
    this.table.insert(c);
    this.stats.connections++;
    if (this.table.size > this.stats.peakLiveConnections) this.stats.peakLiveConnections = this.table.size;
    this.schedule(c, v.ts + TCP_SYN_TIMEOUT);
    return c;
  }

  /** Zeek's IsReuse, for a SYN: true if it cannot belong to the connection we have for this 4-tuple. */
  private isReuse(c: Connection, v: PacketView): boolean {
    const flags = v.flags;
    let connOrig = c.orig;
    if (flags & TH_ACK) {
      if (c.orig.state !== EndpointState.Inactive) return false; // not a half connection
      connOrig = c.resp;
    }
    if (c.orig.didClose || c.resp.didClose) return true;
    if (v.seq === connOrig.startSeq) return false;
    // SYN and SYN-ACK seen in reverse order: the state machine flips the roles, not a reuse.
    if (!(flags & TH_ACK) && connOrig.state === EndpointState.SynAckSent && c.resp.state === EndpointState.Inactive && v.seq === c.resp.startSeq) {
      return false;
    }
    c.weird(connOrig.state === EndpointState.SynSent ? 'SYN_seq_jump' : 'active_connection_reuse');
    return true;
  }

  private schedule(c: Connection, due: number): void {
    this.wheel.schedule(c, due);
  }

  /** A connection whose bucket came due: end it if its timers have run out, else look again later. */
  private expireOne(c: Connection): void {
    const removeAt = removalTime(c);
    if (removeAt <= this.now) this.end(c, 'timeout', removeAt);
    else this.schedule(c, removeAt);
  }

  private end(c: Connection, reason: EndReason, endTime: number): void {
    this.wheel.unschedule(c);
    this.table.remove(c);
    this.sink(c, reason, endTime);
    this.spare.push(c);
  }
}
