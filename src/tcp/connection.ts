/**
 * One incarnation of a TCP 4-tuple: two endpoints, the history string, Zeek's timers, and
 * the frames it spans. A new SYN with a new ISN after the old incarnation ended starts a new
 * Connection (see TcpTracker).
 */
import { Endpoint } from './endpoint.js';

// Slots of Connection.times. A double in an object field is a separate heap number in V8; the
// per-packet path reads and writes several times of one connection, so they share one array
// (one cache line) instead of sitting in boxes scattered over the heap.
const T_START = 0;
const T_LAST = 1;
const T_LAST_PACKET = 2;
const T_ATTEMPT = 3;
const T_DELETE = 4;
const T_SCHEDULED = 5;
/** Zeek's per-endpoint last_time, by role (swapped with the roles). */
const T_ORIG_LAST = 6;
const T_RESP_LAST = 7;

export class Connection {
  // The tracker reuses ended connections (see TcpTracker.end): begin() makes one fresh again.
  // The fields keep their initial values here too, because V8 sizes an object's in-object
  // fields from its class's field list; test/tcp-reuse.test.ts checks that both agree.
  /** The connection's times (epoch seconds), see T_START and the other slots. */
  private readonly times = new Float64Array(8);
  id = 0;
  orig: Endpoint;
  resp: Endpoint;

  // The 4-tuple with roles as they stand (they can flip): addresses as four 32-bit words.
  origA0 = 0;
  origA1 = 0;
  origA2 = 0;
  origA3 = 0;
  origPort = 0;
  respA0 = 0;
  respA1 = 0;
  respA2 = 0;
  respA3 = 0;
  respPort = 0;
  /** Symmetric hash of the 4-tuple (the flow-table key). */
  hash = 0;
  /** Where the flow table holds it (-1: not in the table). */
  tableIndex = -1;

  history = '';
  /** Zeek's hist_seen: HIST_* bits, originator low 16, responder high 16. */
  histSeen = 0;

  firstFrame = 0;
  lastFrame = 0;

  /** Zeek's is_active: cleared once the connection finished or was reset. */
  isActive = true;
  isPartial = false;
  /** Bit 1: a packet from the originator was seen; bit 2: from the responder. */
  firstPacketSeen = 0;
  /** Tunnel layers the packets came through (0 = plain). */
  tunnelDepth = 0;

  // Zeek's timers, kept as due times and evaluated lazily (see timers.ts).
  inactivityTimeout = 0;
  /** Next tick of each running ExpireTimer chain. */
  readonly expireTicks: number[] = [];
  /** Where the timer wheel holds it: bucket second and index (-1 when in no bucket). */
  wheelSecond = 0;
  wheelIndex = -1;

  /** Zeek's missed_bytes: acknowledged but never seen (content gaps). */
  missedBytes = 0;
  /** Zeek weirds raised for this connection (names, deduplicated). */
  weirds: Set<string> | null = null;

  // ICMP errors quoting this connection's segments.
  icmpErrors = 0;
  icmpFirstFrame = 0;
  icmpType = 0;
  icmpCode = 0;

  // The times, stored in `times` (see T_START).
  /** When its first packet came. */
  get startTime(): number {
    return this.times[T_START]!;
  }

  set startTime(t: number) {
    this.times[T_START] = t;
  }

  /** Zeek's last_time: not advanced by packets after both sides closed. */
  get lastTime(): number {
    return this.times[T_LAST]!;
  }

  set lastTime(t: number) {
    this.times[T_LAST] = t;
  }

  /** Time of the last packet of any kind (for tcpsleuth's own views). */
  get lastPacketTime(): number {
    return this.times[T_LAST_PACKET]!;
  }

  set lastPacketTime(t: number) {
    this.times[T_LAST_PACKET] = t;
  }

  /** Zeek's attempt timer (Infinity: not running). */
  get attemptAt(): number {
    return this.times[T_ATTEMPT]!;
  }

  set attemptAt(t: number) {
    this.times[T_ATTEMPT] = t;
  }

  /** Zeek's delete timer, armed by a complete close (Infinity: not running). */
  get deleteAt(): number {
    return this.times[T_DELETE]!;
  }

  set deleteAt(t: number) {
    this.times[T_DELETE] = t;
  }

  /** Due time under which the timer wheel holds this connection (Infinity when not scheduled). */
  get scheduledAt(): number {
    return this.times[T_SCHEDULED]!;
  }

  set scheduledAt(t: number) {
    this.times[T_SCHEDULED] = t;
  }

  constructor(id: number, hash: number, t: number, frame: number, tunnelDepth: number, inactivityTimeout: number, firstExpireTick: number) {
    this.orig = new Endpoint(true);
    this.resp = new Endpoint(false);
    this.begin(id, hash, t, frame, tunnelDepth, inactivityTimeout, firstExpireTick);
  }

  /** Makes this object a new connection whose first packet came at `t` (also for a reused object). */
  begin(id: number, hash: number, t: number, frame: number, tunnelDepth: number, inactivityTimeout: number, firstExpireTick: number): void {
    this.id = id;
    this.origA0 = this.origA1 = this.origA2 = this.origA3 = this.origPort = 0;
    this.respA0 = this.respA1 = this.respA2 = this.respA3 = this.respPort = 0;
    this.hash = hash;
    this.tableIndex = -1;
    this.history = '';
    this.histSeen = 0;
    this.startTime = t;
    this.lastTime = t;
    this.firstFrame = frame;
    this.lastFrame = frame;
    this.lastPacketTime = t;
    this.times[T_ORIG_LAST] = 0;
    this.times[T_RESP_LAST] = 0;
    this.isActive = true;
    this.isPartial = false;
    this.firstPacketSeen = 0;
    this.tunnelDepth = tunnelDepth;
    this.inactivityTimeout = inactivityTimeout;
    this.attemptAt = Infinity;
    this.cancelExpireTimers();
    this.expireTicks.push(firstExpireTick);
    this.deleteAt = Infinity;
    this.scheduledAt = Infinity;
    this.wheelSecond = 0;
    this.wheelIndex = -1;
    this.missedBytes = 0;
    this.weirds = null;
    this.icmpErrors = 0;
    this.icmpFirstFrame = 0;
    this.icmpType = 0;
    this.icmpCode = 0;
    // A role flip may have swapped the two objects: whichever is in `orig` now starts as the originator.
    this.orig.reset(true);
    this.resp.reset(false);
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

  /**
   * Stops every ExpireTimer chain. Popped rather than `length = 0`, which would drop the array's
   * storage: a new one per connection, outliving young collections, piles up in the old generation.
   */
  cancelExpireTimers(): void {
    while (this.expireTicks.length > 0) this.expireTicks.pop();
  }

  /** Zeek's last_time of an endpoint: when it last sent a segment (0: never). */
  endpointLastTime(e: Endpoint): number {
    return this.times[e.isOrig ? T_ORIG_LAST : T_RESP_LAST]!;
  }

  setEndpointLastTime(e: Endpoint, t: number): void {
    this.times[e.isOrig ? T_ORIG_LAST : T_RESP_LAST] = t;
  }

  /** Swaps originator and responder (Zeek's FlipRoles), keeping each side's state and counters. */
  flipRoles(): void {
    const origLast = this.times[T_ORIG_LAST]!;
    this.times[T_ORIG_LAST] = this.times[T_RESP_LAST]!;
    this.times[T_RESP_LAST] = origLast;
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
