/**
 * One incarnation of a TCP 4-tuple: two endpoints, the history string, Zeek's timers, and
 * the frames it spans. A new SYN with a new ISN after the old incarnation ended starts a new
 * Connection (see TcpTracker).
 */
import { Endpoint } from './endpoint.js';

export class Connection {
  readonly id: number;
  orig: Endpoint;
  resp: Endpoint;

  // The 4-tuple with roles as they stand (they can flip): addresses as four 32-bit words.
  origA0: number;
  origA1: number;
  origA2: number;
  origA3: number;
  origPort: number;
  respA0: number;
  respA1: number;
  respA2: number;
  respA3: number;
  respPort: number;
  /** Symmetric hash of the 4-tuple (the flow-table key). */
  readonly hash: number;
  /** Next connection in the same flow-table bucket. */
  nextInBucket: Connection | null = null;

  history = '';
  /** Zeek's hist_seen: HIST_* bits, originator low 16, responder high 16. */
  histSeen = 0;

  startTime: number;
  /** Zeek's last_time: not advanced by packets after both sides closed. */
  lastTime: number;
  firstFrame: number;
  lastFrame: number;
  /** Time of the last packet of any kind (for tcpsleuth's own views). */
  lastPacketTime: number;

  /** Zeek's is_active: cleared once the connection finished or was reset. */
  isActive = true;
  isPartial = false;
  /** Bit 1: a packet from the originator was seen; bit 2: from the responder. */
  firstPacketSeen = 0;
  /** Tunnel layers the packets came through (0 = plain). */
  tunnelDepth: number;

  // Zeek's timers, kept as due times and evaluated lazily (see timers.ts).
  inactivityTimeout: number;
  attemptAt = Infinity;
  /** Next tick of each running ExpireTimer chain. */
  expireTicks: number[];
  deleteAt = Infinity;
  /** Due time under which the timer wheel holds this connection (Infinity when not scheduled). */
  scheduledAt = Infinity;
  /** Where the timer wheel holds it: bucket second and index (-1 when in no bucket). */
  wheelSecond = 0;
  wheelIndex = -1;
  finished = false;

  /** Bytes the peer acknowledged that the capture never showed (Zeek's missed_bytes). */
  missedBytes = 0;
  /** Zeek "weird" names raised for this connection (protocol oddities), in first-seen order. */
  weirds: Set<string> | null = null;

  /** ICMP errors quoting a segment of this connection. */
  icmpErrors = 0;
  icmpFirstFrame = 0;
  icmpType = 0;
  icmpCode = 0;

  constructor(id: number, hash: number, t: number, frame: number, tunnelDepth: number, inactivityTimeout: number, firstExpireTick: number) {
    this.id = id;
    this.hash = hash;
    this.orig = new Endpoint(true);
    this.resp = new Endpoint(false);
    this.origA0 = this.origA1 = this.origA2 = this.origA3 = this.origPort = 0;
    this.respA0 = this.respA1 = this.respA2 = this.respA3 = this.respPort = 0;
    this.startTime = t;
    this.lastTime = t;
    this.lastPacketTime = t;
    this.firstFrame = frame;
    this.lastFrame = frame;
    this.tunnelDepth = tunnelDepth;
    this.inactivityTimeout = inactivityTimeout;
    this.expireTicks = [firstExpireTick];
  }

  addHistory(code: string): void {
    this.history += code;
  }

  /** Zeek's CheckHistory: adds the letter the first time the mask bit is seen; true if it was seen before. */
  checkHistory(mask: number, code: string): boolean {
    if ((this.histSeen & mask) === 0) {
      this.histSeen |= mask;
      this.history += code;
      return false;
    }
    return true;
  }

  weird(name: string): void {
    (this.weirds ??= new Set()).add(name);
  }

  /** Swaps originator and responder (Zeek's FlipRoles), keeping each side's state and counters. */
  flipRoles(): void {
    const e = this.orig;
    this.orig = this.resp;
    this.resp = e;
    this.orig.isOrig = true;
    this.resp.isOrig = false;
    [this.origA0, this.respA0] = [this.respA0, this.origA0];
    [this.origA1, this.respA1] = [this.respA1, this.origA1];
    [this.origA2, this.respA2] = [this.respA2, this.origA2];
    [this.origA3, this.respA3] = [this.respA3, this.origA3];
    [this.origPort, this.respPort] = [this.respPort, this.origPort];
    this.histSeen = (this.histSeen >>> 16) | (this.histSeen << 16);
    this.firstPacketSeen = ((this.firstPacketSeen & 1) << 1) | ((this.firstPacketSeen & 2) >> 1);
    this.isPartial = false;
    this.history += '^';
  }

  /** True if the packet's source is this connection's originator. */
  isFromOrig(s0: number, s1: number, s2: number, s3: number, sport: number): boolean {
    return sport === this.origPort && s3 === this.origA3 && s2 === this.origA2 && s1 === this.origA1 && s0 === this.origA0;
  }
}
