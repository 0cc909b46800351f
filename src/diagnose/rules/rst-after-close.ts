/**
 * Data sent to a socket whose application has closed it: the sender of the RST had sent its FIN
 * (close()), and the RST answers the peer's new data (or data-bearing FIN).
 *
 * - Still a full socket in FIN_WAIT1 — its FIN not yet acknowledged, or acknowledged by this very
 *   segment — the kernel drops the data and resets: TCP_ABORT_ON_DATA (tcp_rcv_state_process,
 *   RFC 1122 §4.2.2.13).
 * - Its FIN acknowledged by an earlier segment: with the default tcp_fin_timeout (60 s) the
 *   orphaned socket had already become a FIN_WAIT2 mini-socket (tcp_time_wait), and
 *   tcp_timewait_state_process answers new data with TCP_TIMEWAIT_SOCKET. A tcp_fin_timeout
 *   above 60 s keeps the full socket, and so does an ACK that arrived while close() still held
 *   the socket's lock (tcp_rcv_state_process, sock_owned_by_user): the reason is then
 *   TCP_ABORT_ON_DATA again — hence the lower confidence.
 *
 * The writer's socket is in CLOSE_WAIT (it had the FIN): its write succeeded, and the RST makes
 * the next send() fail with EPIPE — the classic "Broken pipe".
 */
import { TH_FIN } from '../../dissect/packet.js';
import { bytesText } from '../context.js';
import { at, isReply, receiverCalls, receiverSentence, rstFrames, type RstRule } from './rst-common.js';

export const resetAfterClose: RstRule = (rc) => {
  const r = rc.rec;
  const s = rc.sender.ev;
  if (!(s.finFrame > 0 && s.finFrame < r.frame) || !isReply(r)) return null;
  // New data (a FIN exactly at rcv_nxt is a normal close, even for a FIN_WAIT2 mini-socket).
  if (r.answerLen === 0) return null;
  if (rc.senderState === 'TCP_LAST_ACK' || rc.senderState === 'TCP_CLOSE') return null;
  // FIN acknowledged before the data: close() left a FIN_WAIT2 mini-socket (TCP_TIMEWAIT_SOCKET),
  // shutdown(SHUT_RDWR) a full socket that refuses data (TCP_ABORT_ON_DATA). Same bytes on the wire.
  const finAckedBefore = s.finAckedFrame > 0 && s.finAckedFrame < r.answerFrame;
  const reason = finAckedBefore ? 'UNKNOWN' : 'TCP_ABORT_ON_DATA';
  const what = `${bytesText(r.answerLen)} of data (frame ${r.answerFrame}${r.answerFlags & TH_FIN ? ', with its FIN' : ''})`;
  const why = finAckedBefore
    ? `its FIN was already acknowledged (frame ${s.finAckedFrame}): after close() the FIN_WAIT2 mini-socket resets (TCP_TIMEWAIT_SOCKET), after shutdown(SHUT_RDWR) the socket refuses the data (TCP_ABORT_ON_DATA) — the wire cannot tell which`
    : 'data after close() or shutdown(SHUT_RDWR) has no reader: TCP_ABORT_ON_DATA';
  return {
    kind: 'reset',
    by: rc.sender.side,
    reason,
    confidence: finAckedBefore ? 0.5 : 0.8,
    frames: rstFrames(rc, s.finFrame, finAckedBefore ? s.finAckedFrame : 0),
    time: r.ts,
    state: rc.senderState,
    candidates: finAckedBefore ? ['TCP_TIMEWAIT_SOCKET', 'TCP_ABORT_ON_DATA'] : ['TCP_ABORT_ON_DATA'],
    // After shutdown(SHUT_RDWR) the application still holds the socket that reset: tcp_reset() gives it ECONNRESET.
    calls: receiverCalls(rc, [{ call: 'recv', errno: 'ECONNRESET', note: 'only if it used shutdown() and still holds the socket' }]),
    summary:
      `${rc.sender.Label} had closed (FIN, frame ${s.finFrame}) when ${rc.receiver.label} sent ${what}; it reset (${at(r)}): ${why}. ${receiverSentence(rc)}`,
    advice: `${rc.receiver.Who} wrote after its peer closed: check for end of stream before writing; on a pooled connection, reconnect and retry.`,
    rstText: r.text,
  };
};
