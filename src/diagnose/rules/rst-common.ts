/**
 * What every RST rule needs: the RST with its sender and receiver, and the two shapes a Linux
 * RST has on the wire.
 *
 * - A **reply** (tcp_v4_send_reset / tcp_v6_send_reset, the stack rejecting a segment): to a
 *   segment with ACK it carries seq = that segment's ack and no ACK flag; to a segment without
 *   ACK (a SYN) it carries ACK with ack = the segment's seq + its length (+1 for SYN, FIN).
 * - **Active** (tcp_send_active_reset, the socket aborting itself: close() with unread data,
 *   SO_LINGER {1,0}, keepalive or FIN_WAIT2 timers): RST+ACK with seq = the socket's snd_nxt and
 *   ack = its rcv_nxt, sent on its own, not in answer to anything.
 */
import type { CallOutcome } from '../../analyze/records.js';
import { TH_ACK, TH_FIN, TH_SYN } from '../../dissect/packet.js';
import type { RstRecord } from '../../tcp/evidence.js';
import { type DiagnosisContext, type FindingParts, type SideView, bytesText, clock } from '../context.js';
import { afterResetReceived, NOBODY } from '../errno.js';
import { stateBefore, type TcpState } from '../state.js';

export interface RstCase {
  ctx: DiagnosisContext;
  sender: SideView;
  receiver: SideView;
  rec: RstRecord;
  /** The sender's earlier RST in this connection, if any. */
  earlier: RstRecord | null;
  /** The sender's state just before the RST, from the wire. */
  senderState: TcpState | null;
  receiverState: TcpState | null;
}

/** A rule for one RST: the finding it explains, or null to let the next rule look. */
export type RstRule = (rc: RstCase) => FindingParts | null;

export function isReply(rec: RstRecord): boolean {
  if (rec.answerFrame === 0) return false;
  const a = rec.answerFlags;
  if (!(rec.flags & TH_ACK)) return (a & TH_ACK) !== 0 && rec.seq === rec.answerAck;
  if (a & TH_ACK) return false;
  const expected = (rec.answerSeq + rec.answerLen + (a & TH_SYN ? 1 : 0) + (a & TH_FIN ? 1 : 0)) | 0;
  return rec.ack === expected;
}

/** RST+ACK at (or just past, when the capture missed some of its data) the sender's snd_nxt. */
export function isActive(rec: RstRecord): boolean {
  if (!(rec.flags & TH_ACK) || !rec.senderHadSeq) return false;
  const d = (rec.seq - rec.senderSndNxt) | 0;
  return d >= 0 && d < 1 << 20;
}

/** "frame 9 at 12:01:03.412" */
export function at(rec: RstRecord): string {
  return `frame ${rec.frame} at ${clock(rec.ts)}`;
}

/**
 * A receiver still connecting (SYN-SENT) accepts an RST only if it acknowledges its SYN
 * (RFC 9293 §3.10.7.3); any other RST is ignored and the handshake goes on.
 */
export function ignoredBySynSent(rc: RstCase): boolean {
  if (rc.receiverState !== 'TCP_SYN_SENT') return false;
  return !(rc.rec.flags & TH_ACK) || rc.rec.ack !== ((rc.receiver.ev.synIsn + 1) | 0);
}

/** What the RST's receiver sees, by its state, as per-side calls. */
export function receiverCalls(rc: RstCase, senderCalls: readonly CallOutcome[] = NOBODY): { orig: readonly CallOutcome[]; resp: readonly CallOutcome[] } {
  const recv = ignoredBySynSent(rc) ? NOBODY : afterResetReceived(rc.receiverState);
  return rc.sender.side === 'orig' ? { orig: senderCalls, resp: recv } : { orig: recv, resp: senderCalls };
}

/** One sentence on what the receiver's application sees. */
export function receiverSentence(rc: RstCase): string {
  const who = rc.receiver.Who;
  switch (rc.receiverState) {
    case 'TCP_SYN_SENT':
      return ignoredBySynSent(rc) ? `${who}, still connecting, ignores it (it does not acknowledge its SYN).` : `${who}'s connect() fails with ECONNREFUSED.`;
    case 'TCP_CLOSE_WAIT':
      return `${who} (in CLOSE_WAIT: it had the peer's FIN) gets EPIPE "Broken pipe" on its next send(); recv() returns 0.`;
    case 'TCP_ESTABLISHED':
    case 'TCP_SYN_RECV':
      return `${who}'s next recv() fails with ECONNRESET "Connection reset by peer" (a send() after that: EPIPE "Broken pipe").`;
    case 'TCP_FIN_WAIT1':
    case 'TCP_FIN_WAIT2':
      return `${who} gets ECONNRESET only if it still holds the socket (shutdown() without close()).`;
    case 'TCP_TIME_WAIT':
    case 'TCP_LAST_ACK':
    case 'TCP_CLOSING':
    case 'TCP_CLOSE':
      return `No application sees it: ${rc.receiver.who} had closed.`;
    default:
      return '';
  }
}

/** Bytes of the receiver's data that reached the sender unanswered, as words. */
export function pendingWords(rc: RstCase): string {
  const n = rc.rec.pendingRx;
  return `${bytesText(n)} from ${rc.receiver.who} (frame ${rc.rec.pendingRxFrame} on)`;
}

export function makeCase(ctx: DiagnosisContext, sender: SideView, receiver: SideView, rec: RstRecord, earlier: RstRecord | null): RstCase {
  return { ctx, sender, receiver, rec, earlier, senderState: stateBefore(ctx, sender, rec.frame), receiverState: stateBefore(ctx, receiver, rec.frame) };
}

/**
 * Frames that show an RST case: up to two of the rule's own (0: none), the segment it answers (if
 * it is a reply), the RST.
 */
export function rstFrames(rc: RstCase, first = 0, second = 0): number[] {
  const r = rc.rec;
  return [first, second, isReply(r) ? r.answerFrame : 0, r.frame];
}

/** The sender's port is a listener: it answered a SYN with a SYN-ACK (here or in another connection). */
export function senderIsListener(rc: RstCase): boolean {
  return rc.sender.ev.synAcks > 0 || rc.ctx.memory.isListener(rc.sender.hash);
}
