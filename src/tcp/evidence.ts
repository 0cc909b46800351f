/**
 * Per-side evidence for the diagnosis layer (src/diagnose): what each side sent, in plain
 * numbers, collected while the Zeek emulation runs — without changing it.
 *
 * One SideEvidence lives in each Endpoint (so it follows Zeek's role flips). It is small on
 * purpose — tens of thousands of connections are live at once, and every field is copied by
 * the garbage collector — and holds only small integers: times are milliseconds since the
 * connection's first packet (`msSince`), never doubles (a double field is a boxed number in V8).
 * What most connections never need (retransmissions, probes, zero or full windows, RSTs) lives
 * in a RareEvidence allocated on the first such event.
 *
 * `noteSegment` runs once per processed segment: comparisons and field writes, no allocation
 * on the ordinary path. Objects are made only for the first unusual event of a side, for RST
 * segments (at most MAX_RST_RECORDS per side; RSTs are rare), for the text of an RST's
 * payload (RFC 1122 §4.2.2.12 reset cause, at most RST_TEXT_MAX bytes), and by the option
 * walker for each SYN (its window scale).
 *
 * Sequence numbers are raw 32-bit values held as signed integers (see read32be); comparisons
 * are modulo 2^32 via `(a - b) | 0`.
 */
import { tcpChecksumOk } from '../dissect/checksum.js';
import { TH_ACK, TH_FIN, TH_RST, TH_SYN, type PacketView } from '../dissect/packet.js';
import { synWindowScale } from '../dissect/tcp.js';

/** RSTs remembered per side in full; further ones are only counted. */
export const MAX_RST_RECORDS = 8;
/** Bytes of an RST's payload kept as text. */
export const RST_TEXT_MAX = 64;
/** An interval at least this much longer than the previous one counts as "growing" (backoff). */
export const BACKOFF_FACTOR = 1.4;
/** RFC 7323 §2.3: a larger shift is used as 14. */
const MAX_WINDOW_SHIFT = 14;

/** Milliseconds from t0 to t as a small integer (times in evidence are kept this way). */
export function msSince(t: number, t0: number): number {
  return ((t - t0) * 1000 + 0.5) | 0;
}

/** One RST segment and what stood around it when it was sent. Times are epoch seconds here. */
export class RstRecord {
  frame: number;
  ts: number;
  seq: number;
  ack: number;
  flags: number;
  payloadLen: number;
  ttl: number;
  ipId: number;
  window: number;
  /** Printable text of the payload (RFC 1122 reset cause), or null. */
  text: string | null = null;
  /** Identical RSTs that followed before the peer said anything: counted, frames not kept. */
  repeats = 0;
  /** IP version, and whether the TCP checksum is right (null: the segment was not captured whole). */
  ipVersion: number;
  checksumOk: boolean | null = null;

  // The peer's latest segment before the RST: the one a reply-RST answers (answerFrame 0: none).
  answerFrame = 0;
  answerFlags = 0;
  answerSeq = 0;
  answerAck = 0;
  answerLen = 0;

  // The sender's own view at the moment of the RST.
  /** The sender had sent a non-RST segment before (so sndNxt / ackHigh mean something). */
  senderHadSeq: boolean;
  senderSndNxt: number;
  senderHadAck: boolean;
  senderAckHigh: number;
  /** New payload bytes the peer sent since the sender last sent new data or a FIN. */
  pendingRx: number;
  pendingRxFrame: number;
  /** Keepalive probes from the sender not answered by anything from the peer. */
  keepaliveUnanswered: number;
  /** The peer's highest ACK so far: seq === peerAckHigh means the RST hits rcv_nxt exactly. */
  peerHadAck: boolean;
  peerAckHigh: number;
  /** TTL range of the sender's non-RST segments before this RST (min > max: none). */
  ttlMin: number;
  ttlMax: number;
  /** Non-RST segments the sender had sent before. */
  senderSegments: number;

  // The peer's first segment after the RST (reactFrame 0: none seen).
  reactFrame = 0;
  reactTs = 0;
  reactFlags = 0;
  reactLen = 0;
  /** Non-RST segments the sender sent after this RST. */
  senderLater = 0;
  senderLaterFrame = 0;

  constructor(v: PacketView, s: SideEvidence, p: SideEvidence) {
    this.frame = v.frame;
    this.ts = v.ts;
    this.seq = v.seq;
    this.ack = v.ack;
    this.flags = v.flags;
    this.payloadLen = v.payloadLen;
    this.ttl = v.ttl;
    this.ipId = v.ipId;
    this.window = v.window;
    this.ipVersion = v.ipVersion;
    const segLen = v.tcpHeaderLen + v.payloadLen;
    if (v.capturedPayload >= v.payloadLen && v.tcpOffset + segLen <= v.data.length) this.checksumOk = tcpChecksumOk(v, v.data, segLen);
    if (p.segments > 0) {
      this.answerFrame = p.lastFrame;
      this.answerFlags = p.lastFlags;
      this.answerSeq = p.lastSeq;
      this.answerAck = p.lastAck;
      this.answerLen = p.lastLen;
    }
    this.senderHadSeq = s.hasSeq;
    this.senderSndNxt = s.sndNxt;
    this.senderHadAck = s.hasAck;
    this.senderAckHigh = s.ackHigh;
    this.pendingRx = s.rxSinceTx;
    this.pendingRxFrame = s.rxSinceTxFrame;
    this.keepaliveUnanswered = s.rare === null ? 0 : s.rare.kaUnanswered;
    this.peerHadAck = p.hasAck;
    this.peerAckHigh = p.ackHigh;
    this.ttlMin = s.ttlMin;
    this.ttlMax = s.ttlMax;
    this.senderSegments = s.segments;
    const captured = v.capturedPayload;
    if (captured > 0) this.text = payloadText(v.data, v.tcpOffset + v.tcpHeaderLen, captured < RST_TEXT_MAX ? captured : RST_TEXT_MAX);
  }
}

/**
 * Printable ASCII of an RST's payload; other bytes as \xNN (a cause text is ASCII by RFC), and a
 * backslash as \\, so that the text "\x1b" and an ESC byte stay apart and the bytes can be read back.
 */
function payloadText(b: Buffer, off: number, n: number): string {
  let s = '';
  for (let i = 0; i < n && off + i < b.length; i++) {
    const ch = b[off + i]!;
    s += ch === 0x5c ? '\\\\' : ch >= 0x20 && ch < 0x7f ? String.fromCharCode(ch) : `\\x${ch.toString(16).padStart(2, '0')}`;
  }
  return s;
}

/** The unusual part of a side's evidence: allocated on its first retransmission, probe, zero window, RST, ... */
export class RareEvidence {
  // A side keeps its RareEvidence for the next connection that reuses it (SideEvidence.reset), so
  // that the many that outlive a young-generation collection do not pile up as garbage in the
  // old one. reset() must agree with the initial values here (test/tcp-reuse.test.ts).

  // SYN retransmission timing: the first and the latest interval between SYNs.
  synFirstGapMs = 0;
  synPrevGapMs = 0;
  /** Retransmitted SYNs whose interval grew (exponential backoff). */
  synBackoffs = 0;
  /** This side's first SYN-ACK sent after the peer's handshake ACK (accept-queue overflow sign). */
  synAckAfterAckFrame = 0;

  // Retransmissions and holes.
  rexmits = 0;
  rexmitBytes = 0;
  rexmitFirstFrame = 0;
  rexmitLastFrame = 0;
  /** Segments that started beyond sndNxt: bytes before them never seen (reordering or capture loss). */
  seqJumps = 0;
  // The current run of retransmissions of one sequence number with no ACK past it.
  stallSeq = 0;
  stallCount = 0;
  stallFirstFrame = 0;
  stallFirstMs = 0;
  stallLastFrame = 0;
  stallLastMs = 0;
  stallPrevGapMs = 0;
  stallBackoffs = 0;
  /** Payload length of the run's first retransmission. */
  stallLen = 0;
  // The longest run the peer did acknowledge in the end.
  ackedStallCount = 0;
  ackedStallMs = 0;

  // Zero window advertised by this side (its receive buffer is full: its application is not reading).
  zeroWindows = 0;
  zwFirstFrame = 0;
  zwFirstMs = 0;
  zwLastFrame = 0;
  zwLastMs = 0;
  /** Start of the current zero-window episode; -1 while the window is open. */
  zwStartMs = -1;
  zwEpisodes = 0;
  zwLongestMs = 0;
  zwTotalMs = 0;
  zwReopenFrame = 0;
  /** Zero-window probes this side sent into the peer's shut window. */
  zwProbes = 0;

  // Segments of this side that filled the peer's advertised window to its right edge (Wireshark's
  // "TCP Window Full"): the peer's receive window, not the network, held this side back.
  windowFull = 0;
  wfFirstFrame = 0;
  wfFirstMs = 0;
  wfLastFrame = 0;
  wfLastMs = 0;
  /** The largest window (bytes, scaled) such a segment filled. */
  wfWindowMax = 0;

  // Keepalives (seq = snd.nxt - 1 with 0 or 1 byte, into an open window).
  kaProbes = 0;
  kaUnanswered = 0;
  kaFirstFrame = 0;
  kaLastFrame = 0;
  kaLastMs = 0;

  // RST.
  readonly rsts: RstRecord[] = [];
  /** The latest RST, until the peer's next segment is noted as its reaction. */
  openRst: RstRecord | null = null;
  /** Non-RST segments sent after this side's first RST. */
  afterRst = 0;

  constructor() {
    this.reset();
  }

  reset(): void {
    this.synFirstGapMs = 0;
    this.synPrevGapMs = 0;
    this.synBackoffs = 0;
    this.synAckAfterAckFrame = 0;
    this.rexmits = 0;
    this.rexmitBytes = 0;
    this.rexmitFirstFrame = 0;
    this.rexmitLastFrame = 0;
    this.seqJumps = 0;
    this.stallSeq = 0;
    this.stallCount = 0;
    this.stallFirstFrame = 0;
    this.stallFirstMs = 0;
    this.stallLastFrame = 0;
    this.stallLastMs = 0;
    this.stallPrevGapMs = 0;
    this.stallBackoffs = 0;
    this.stallLen = 0;
    this.ackedStallCount = 0;
    this.ackedStallMs = 0;
    this.zeroWindows = 0;
    this.zwFirstFrame = 0;
    this.zwFirstMs = 0;
    this.zwLastFrame = 0;
    this.zwLastMs = 0;
    this.zwStartMs = -1;
    this.zwEpisodes = 0;
    this.zwLongestMs = 0;
    this.zwTotalMs = 0;
    this.zwReopenFrame = 0;
    this.zwProbes = 0;
    this.windowFull = 0;
    this.wfFirstFrame = 0;
    this.wfFirstMs = 0;
    this.wfLastFrame = 0;
    this.wfLastMs = 0;
    this.wfWindowMax = 0;
    this.kaProbes = 0;
    this.kaUnanswered = 0;
    this.kaFirstFrame = 0;
    this.kaLastFrame = 0;
    this.kaLastMs = 0;
    this.rsts.length = 0;
    this.openRst = null;
    this.afterRst = 0;
  }
}


/** What one side of a connection sent, in numbers. Frames are 1-based, 0 = never; times in ms since the connection began. */
export class SideEvidence {
  // Endpoints are reused (Connection.begin): reset() makes a side fresh again, and must agree
  // with the initial values here (test/tcp-reuse.test.ts).
  /** Segments noted (after Zeek's checksum filter). */
  segments = 0;
  // The latest segment from this side.
  lastFrame = 0;
  lastFlags = 0;
  lastSeq = 0;
  lastAck = 0;
  lastLen = 0;
  /** Window field of the latest non-RST segment (unscaled; only zero-ness is used). */
  lastWindow = -1;
  // More of the latest segment, to recognise a copy of it from another interface (capture-copy.ts).
  lastMs = 0;
  lastIpId = -1;
  lastCaptureIf = 0;
  /** The TCP checksum field as captured (it covers options and payload). */
  lastChecksum = -1;

  // Sequence space as this side used it.
  hasSeq = false;
  /** One past the highest sequence number sent (SYN and FIN count one). */
  sndNxt = 0;
  hasAck = false;
  /** Highest ACK this side sent (its rcv_nxt as far as the wire shows). */
  ackHigh = 0;
  /** First segment with ACK and without SYN (the handshake's third segment, for a client). */
  firstAckFrame = 0;
  firstAckMs = 0;

  // Window scaling (RFC 7323).
  /** The shift this side's SYN (or SYN-ACK) announced; -1: no option, or no SYN seen. */
  synWscale = -1;
  /**
   * The shift that applies to the windows this side advertises, once both SYNs were seen: its own
   * announcement if both SYNs carried the option, else 0. -1 while unknown (a SYN missing), when
   * no window can be compared with sequence numbers.
   */
  winShift = -1;

  // SYN (without ACK) and SYN-ACK.
  syns = 0;
  synIsn = 0;
  synFirstFrame = 0;
  synFirstMs = 0;
  synLastFrame = 0;
  synLastMs = 0;
  synAcks = 0;
  synAckFirstFrame = 0;
  synAckFirstMs = 0;
  synAckLastFrame = 0;
  synAckLastMs = 0;

  // Payload.
  dataSegs = 0;
  /** New payload bytes (retransmissions not counted again). */
  dataBytes = 0;
  firstDataFrame = 0;
  lastDataFrame = 0;
  lastDataMs = 0;
  /** New payload bytes received from the peer since this side last sent new data or a FIN. */
  rxSinceTx = 0;
  rxSinceTxFrame = 0;

  // FIN.
  fins = 0;
  finFrame = 0;
  finMs = 0;
  /** Sequence number of the FIN octet. */
  finSeq = 0;
  /** The peer's first segment acknowledging the FIN (0: not seen). */
  finAckedFrame = 0;

  rstCount = 0;
  /** TTL (hop limit) range of this side's non-RST segments; min > max until one is seen. */
  ttlMin = 256;
  ttlMax = -1;

  // Segment sizes (a path MTU black hole swallows the first segment of a new, larger size).
  /** The largest payload of a segment of new data, the sequence number of the first one that large, and the largest before it. */
  maxDataLen = 0;
  maxDataSeq = 0;
  lenBeforeMax = 0;
  /** Whether that first largest segment forbade fragmentation (IPv4 DF; always for IPv6). */
  maxDataDf = false;

  rare: RareEvidence | null = null;
  /** The RareEvidence of an earlier connection, cleared, for the next unusual event. */
  spareRare: RareEvidence | null = null;

  constructor() {
    this.reset();
  }

  /** Back to a side nothing has been seen from. */
  reset(): void {
    this.segments = 0;
    this.lastFrame = 0;
    this.lastFlags = 0;
    this.lastSeq = 0;
    this.lastAck = 0;
    this.lastLen = 0;
    this.lastMs = 0;
    this.lastIpId = -1;
    this.lastCaptureIf = 0;
    this.lastChecksum = -1;
    this.lastWindow = -1;
    this.hasSeq = false;
    this.sndNxt = 0;
    this.hasAck = false;
    this.ackHigh = 0;
    this.firstAckFrame = 0;
    this.firstAckMs = 0;
    this.synWscale = -1;
    this.winShift = -1;
    this.syns = 0;
    this.synIsn = 0;
    this.synFirstFrame = 0;
    this.synFirstMs = 0;
    this.synLastFrame = 0;
    this.synLastMs = 0;
    this.synAcks = 0;
    this.synAckFirstFrame = 0;
    this.synAckFirstMs = 0;
    this.synAckLastFrame = 0;
    this.synAckLastMs = 0;
    this.dataSegs = 0;
    this.dataBytes = 0;
    this.firstDataFrame = 0;
    this.lastDataFrame = 0;
    this.lastDataMs = 0;
    this.rxSinceTx = 0;
    this.rxSinceTxFrame = 0;
    this.fins = 0;
    this.finFrame = 0;
    this.finMs = 0;
    this.finSeq = 0;
    this.finAckedFrame = 0;
    this.rstCount = 0;
    this.ttlMin = 256;
    this.ttlMax = -1;
    this.maxDataLen = 0;
    this.maxDataSeq = 0;
    this.lenBeforeMax = 0;
    this.maxDataDf = false;
    if (this.rare !== null) {
      this.rare.reset();
      this.spareRare = this.rare;
      this.rare = null;
    }
  }
}

function rareOf(s: SideEvidence): RareEvidence {
  if (s.rare === null) {
    s.rare = s.spareRare ?? new RareEvidence();
    s.spareRare = null;
  }
  return s.rare;
}

/**
 * Notes one segment from the side with evidence `s` (its peer's: `p`), sent `ms` milliseconds
 * after the connection's first packet (msSince; an integer, so no number is boxed per call).
 * Called by the tracker for every segment the Zeek emulation processed.
 */
export function noteSegment(s: SideEvidence, p: SideEvidence, v: PacketView, ms: number): void {
  const flags = v.flags;
  const frame = v.frame;
  const len = v.payloadLen;
  // Whatever this side sends answers the peer's keepalives and is its reaction to the peer's latest RST.
  if (p.rare !== null) reactToPeer(p.rare, v);
  if (flags & TH_RST) {
    noteRst(s, p, v);
  } else {
    const ttl = v.ttl;
    if (ttl < s.ttlMin) s.ttlMin = ttl;
    if (ttl > s.ttlMax) s.ttlMax = ttl;
    if (s.rstCount !== 0 && !(flags & TH_SYN)) afterOwnRst(rareOf(s), frame);
    if (flags & (TH_SYN | TH_FIN) || !s.hasSeq) {
      noteControl(s, p, v, flags, frame, len, ms);
    } else {
      const seq = v.seq;
      const ahead = (seq + len - s.sndNxt) | 0;
      if (ahead > 0) {
        if (((seq - s.sndNxt) | 0) > 0) rareOf(s).seqJumps++;
        s.sndNxt = (seq + len) | 0;
        // A bare ACK beyond sndNxt (the capture missed data before it) sends no data itself.
        if (len > 0) noteData(s, p, v, frame, ahead < len ? ahead : len);
        // Payload up to the right edge of the window the peer's latest ACK opened (not a shut window).
        if (p.winShift >= 0 && len > 0 && (p.lastFlags & (TH_ACK | TH_RST)) === TH_ACK && p.lastWindow > 0) {
          const wnd = p.lastFlags & TH_SYN ? p.lastWindow : p.lastWindow << p.winShift;
          if (((seq + len - p.lastAck - wnd) | 0) === 0) noteWindowFull(rareOf(s), frame, ms, wnd);
        }
      } else if (len > 0) {
        noteOld(s, p, v, frame, seq, len, ms);
      } else if (((seq + 1 - s.sndNxt) | 0) === 0) {
        noteProbe(s, p, frame, ms);
      }
    }
    const win = v.window;
    if (win === 0) {
      // As Zeek's W/w: not once the peer has closed (nothing more to receive).
      if (p.fins === 0) noteZeroWindow(s, flags, frame, ms);
    } else if (s.rare !== null && s.rare.zwStartMs >= 0) windowReopened(s.rare, frame, ms);
    s.lastWindow = win;
    if (flags & TH_ACK) {
      const ack = v.ack;
      if (((ack - s.ackHigh) | 0) > 0 || !s.hasAck) {
        s.ackHigh = ack;
        s.hasAck = true;
      }
      if (s.firstAckFrame === 0 && !(flags & TH_SYN)) {
        s.firstAckFrame = frame;
        s.firstAckMs = ms;
      }
      if (p.fins !== 0 && p.finAckedFrame === 0 && ((ack - p.finSeq) | 0) > 0) p.finAckedFrame = frame;
      if (p.rare !== null && p.rare.stallCount !== 0 && ((ack - p.rare.stallSeq) | 0) > 0) endStall(p.rare, ms);
    }
  }
  if (s.lastDataFrame === frame) s.lastDataMs = ms;
  s.segments++;
  s.lastFrame = frame;
  s.lastFlags = flags;
  s.lastSeq = v.seq;
  s.lastAck = v.ack;
  s.lastLen = len;
  s.lastMs = ms;
  s.lastIpId = v.ipId;
  s.lastCaptureIf = v.captureIf;
  s.lastChecksum = tcpChecksumField(v);
}

/** The TCP header's checksum field (the header is always captured whole). */
export function tcpChecksumField(v: PacketView): number {
  const o = v.tcpOffset + 16;
  return (v.data[o]! << 8) | v.data[o + 1]!;
}

function reactToPeer(r: RareEvidence, v: PacketView): void {
  r.kaUnanswered = 0;
  const open = r.openRst;
  if (open !== null) {
    open.reactFrame = v.frame;
    open.reactTs = v.ts;
    open.reactFlags = v.flags;
    open.reactLen = v.payloadLen;
    r.openRst = null;
  }
}

function afterOwnRst(r: RareEvidence, frame: number): void {
  r.afterRst++;
  const last = r.rsts[r.rsts.length - 1];
  if (last !== undefined && last.senderLater++ === 0) last.senderLaterFrame = frame;
}

function noteData(s: SideEvidence, p: SideEvidence, v: PacketView, frame: number, fresh: number): void {
  if (v.payloadLen > s.maxDataLen) newMaxDataLen(s, v);
  if (s.dataSegs++ === 0) s.firstDataFrame = frame;
  s.lastDataFrame = frame;
  s.dataBytes += fresh;
  if (p.rxSinceTx === 0) p.rxSinceTxFrame = frame;
  p.rxSinceTx += fresh;
  s.rxSinceTx = 0;
}

/** The first segment of new data larger than any before it from this side. */
function newMaxDataLen(s: SideEvidence, v: PacketView): void {
  s.lenBeforeMax = s.maxDataLen;
  s.maxDataLen = v.payloadLen;
  s.maxDataSeq = v.seq;
  s.maxDataDf = v.dontFragment || v.ipVersion === 6;
}

/** SYN, FIN, or the first segment of a side: the slow path. */
function noteControl(s: SideEvidence, p: SideEvidence, v: PacketView, flags: number, frame: number, len: number, ms: number): void {
  const seq = v.seq;
  const syn = flags & TH_SYN;
  const fin = flags & TH_FIN;
  if (syn) {
    noteWindowScale(s, p, v);
    if (flags & TH_ACK) {
      if (s.synAcks++ === 0) {
        s.synAckFirstFrame = frame;
        s.synAckFirstMs = ms;
      } else if (p.firstAckFrame !== 0 && s.synAckFirstFrame < p.firstAckFrame) {
        const r = rareOf(s);
        if (r.synAckAfterAckFrame === 0) r.synAckAfterAckFrame = frame;
      }
      s.synAckLastFrame = frame;
      s.synAckLastMs = ms;
    } else {
      if (s.syns++ === 0) {
        s.synFirstFrame = frame;
        s.synFirstMs = ms;
        s.synIsn = seq;
      } else {
        const r = rareOf(s);
        const gap = ms - s.synLastMs;
        if (s.syns === 2) r.synFirstGapMs = gap;
        else if (gap >= r.synPrevGapMs * BACKOFF_FACTOR) r.synBackoffs++;
        r.synPrevGapMs = gap;
      }
      s.synLastFrame = frame;
      s.synLastMs = ms;
    }
  }
  const end = (seq + len + (syn ? 1 : 0) + (fin ? 1 : 0)) | 0;
  let fresh = len;
  if (!s.hasSeq) {
    s.hasSeq = true;
    s.sndNxt = end;
  } else {
    const ahead = (end - s.sndNxt) | 0;
    if (ahead > 0) {
      if (ahead < fresh) fresh = ahead;
      s.sndNxt = end;
    } else {
      fresh = 0;
      if (len > 0) noteOld(s, p, v, frame, seq, len, ms);
    }
  }
  if (fresh > 0) noteData(s, p, v, frame, fresh);
  if (fin) {
    if (s.fins++ === 0) {
      s.finFrame = frame;
      s.finMs = ms;
      s.finSeq = (seq + len) | 0;
    }
    s.rxSinceTx = 0;
  }
}

/**
 * RFC 7323 §2.2: windows are scaled only if both SYNs carried the option; each side's windows by
 * the shift it announced itself. SYN and SYN-ACK windows are never scaled.
 */
function noteWindowScale(s: SideEvidence, p: SideEvidence, v: PacketView): void {
  const shift = synWindowScale(v.data, v.tcpOffset, v.tcpHeaderLen);
  s.synWscale = shift > MAX_WINDOW_SHIFT ? MAX_WINDOW_SHIFT : shift;
  if (p.syns + p.synAcks === 0) return;
  const scaled = s.synWscale >= 0 && p.synWscale >= 0;
  s.winShift = scaled ? s.synWscale : 0;
  p.winShift = scaled ? p.synWscale : 0;
}

/** Payload at or below sndNxt: a keepalive/zero-window probe with its garbage byte, or a retransmission. */
function noteOld(s: SideEvidence, p: SideEvidence, v: PacketView, frame: number, seq: number, len: number, ms: number): void {
  if (len === 1 && ((seq + 1 - s.sndNxt) | 0) === 0 && !(v.flags & (TH_SYN | TH_FIN))) {
    noteProbe(s, p, frame, ms);
    return;
  }
  const r = rareOf(s);
  if (r.rexmits++ === 0) r.rexmitFirstFrame = frame;
  r.rexmitBytes += len;
  r.rexmitLastFrame = frame;
  if (r.stallCount !== 0 && seq === r.stallSeq) {
    const gap = ms - r.stallLastMs;
    if (r.stallCount > 1 && gap >= r.stallPrevGapMs * BACKOFF_FACTOR) r.stallBackoffs++;
    r.stallPrevGapMs = gap;
    r.stallCount++;
    r.stallLastFrame = frame;
    r.stallLastMs = ms;
  } else {
    r.stallSeq = seq;
    r.stallCount = 1;
    r.stallFirstFrame = r.stallLastFrame = frame;
    r.stallFirstMs = r.stallLastMs = ms;
    r.stallPrevGapMs = 0;
    r.stallBackoffs = 0;
    r.stallLen = len;
  }
}

/** seq = snd.nxt - 1: a keepalive, or a zero-window probe when the peer's window is shut. */
function noteProbe(s: SideEvidence, p: SideEvidence, frame: number, ms: number): void {
  const r = rareOf(s);
  if (p.lastWindow === 0) {
    r.zwProbes++;
    return;
  }
  if (r.kaProbes++ === 0) r.kaFirstFrame = frame;
  r.kaUnanswered++;
  r.kaLastFrame = frame;
  r.kaLastMs = ms;
}

function noteZeroWindow(s: SideEvidence, flags: number, frame: number, ms: number): void {
  if (flags & TH_SYN) return;
  const r = rareOf(s);
  if (r.zeroWindows++ === 0) {
    r.zwFirstFrame = frame;
    r.zwFirstMs = ms;
  }
  r.zwLastFrame = frame;
  r.zwLastMs = ms;
  if (r.zwStartMs < 0) {
    r.zwStartMs = ms;
    r.zwEpisodes++;
  }
}

function noteWindowFull(r: RareEvidence, frame: number, ms: number, wnd: number): void {
  if (r.windowFull++ === 0) {
    r.wfFirstFrame = frame;
    r.wfFirstMs = ms;
  }
  r.wfLastFrame = frame;
  r.wfLastMs = ms;
  if (wnd > r.wfWindowMax) r.wfWindowMax = wnd;
}

function windowReopened(r: RareEvidence, frame: number, ms: number): void {
  const d = ms - r.zwStartMs;
  r.zwTotalMs += d;
  if (d > r.zwLongestMs) r.zwLongestMs = d;
  r.zwStartMs = -1;
  r.zwReopenFrame = frame;
}

function endStall(r: RareEvidence, ms: number): void {
  if (r.stallCount > r.ackedStallCount) {
    r.ackedStallCount = r.stallCount;
    r.ackedStallMs = ms - r.stallFirstMs;
  }
  r.stallCount = 0;
}

function noteRst(s: SideEvidence, p: SideEvidence, v: PacketView): void {
  s.rstCount++;
  const r = rareOf(s);
  const list = r.rsts;
  const prev = list.length > 0 ? list[list.length - 1]! : null;
  if (prev !== null && prev.seq === v.seq && prev.flags === v.flags && prev.reactFrame === 0 && v.payloadLen === prev.payloadLen) {
    prev.repeats++;
    return;
  }
  if (list.length >= MAX_RST_RECORDS) return;
  const rec = new RstRecord(v, s, p);
  list.push(rec);
  r.openRst = rec;
}
