/**
 * A side's kernel TCP state (include/net/tcp_states.h names) just before a given frame, inferred
 * from what the wire showed: its SYN / SYN-ACK, its FIN and whether the peer acknowledged it, the
 * peer's FIN. A FIN is assumed delivered once captured (the capture point may sit before a loss:
 * the rules that depend on it say so).
 */
import type { DiagnosisContext, SideView } from './context.js';
import { peerOf } from './context.js';

export type TcpState =
  | 'TCP_SYN_SENT'
  | 'TCP_SYN_RECV'
  | 'TCP_ESTABLISHED'
  | 'TCP_FIN_WAIT1'
  | 'TCP_FIN_WAIT2'
  | 'TCP_CLOSE_WAIT'
  | 'TCP_CLOSING'
  | 'TCP_LAST_ACK'
  | 'TCP_TIME_WAIT'
  | 'TCP_CLOSE'
  | 'TCP_LISTEN';

function before(frame: number, limit: number): boolean {
  return frame > 0 && frame < limit;
}

/** The state of side `s` just before frame `at`; null when the side had shown nothing yet. */
export function stateBefore(ctx: DiagnosisContext, s: SideView, at: number): TcpState | null {
  const p = peerOf(ctx, s);
  const ev = s.ev;
  const pv = p.ev;
  const synSent = before(ev.synFirstFrame, at);
  const synAckSent = before(ev.synAckFirstFrame, at);
  const peerSynAck = before(pv.synAckFirstFrame, at);
  const sentAnything = ev.segments > 0 && (before(ev.synFirstFrame, at) || before(ev.synAckFirstFrame, at) || before(ev.firstAckFrame, at) || before(ev.firstDataFrame, at) || before(ev.finFrame, at));
  if (synSent && !peerSynAck && !before(ev.firstAckFrame, at)) return 'TCP_SYN_SENT';
  if (synAckSent && !(pv.firstAckFrame > ev.synAckFirstFrame && pv.firstAckFrame < at)) return 'TCP_SYN_RECV';
  if (!sentAnything && !before(pv.finFrame, at)) return null;
  const fin = before(ev.finFrame, at);
  const finAcked = fin && before(ev.finAckedFrame, at);
  const peerFin = before(pv.finFrame, at);
  if (fin && peerFin) {
    if (ev.finFrame < pv.finFrame) return finAcked ? 'TCP_TIME_WAIT' : 'TCP_CLOSING';
    return finAcked ? 'TCP_CLOSE' : 'TCP_LAST_ACK';
  }
  if (fin) return finAcked ? 'TCP_FIN_WAIT2' : 'TCP_FIN_WAIT1';
  if (peerFin) return 'TCP_CLOSE_WAIT';
  return 'TCP_ESTABLISHED';
}

/** "TCP_CLOSE_WAIT" → "CLOSE_WAIT" for sentences. */
export function stateWord(s: string | null): string {
  return s === null ? 'no state' : s.replace(/^TCP_/, '');
}
