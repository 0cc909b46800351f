/**
 * A reply RST from a side that has no socket for the segment it answers. The kernel's reason
 * depends on something the wire cannot show — whether that port still has a listener:
 * no socket at all → NO_SOCKET (tcp_v4_rcv's lookup fails); a listener but no connection → the
 * listener rejects the ACK with TCP_FLAGS (tcp_rcv_state_process, TCP_LISTEN). tcpsleuth picks
 * TCP_FLAGS when the side is known to listen on that port (it sent a SYN-ACK in this connection
 * or in another one of the capture), else NO_SOCKET, and always names both.
 */
import { TH_ACK, TH_SYN } from '../../dissect/packet.js';
import { at, isReply, receiverCalls, receiverSentence, rstFrames, senderIsListener, type RstRule } from './rst-common.js';

export const noSocket: RstRule = (rc) => {
  const r = rc.rec;
  if (!isReply(r)) return null;
  const a = r.answerFlags;
  const toSyn = (a & TH_SYN) !== 0 && !(a & TH_ACK);
  // A segment that is not a SYN, to a port that may still have a listener: the listener rejects it
  // (TCP_FLAGS); without one the lookup fails (NO_SOCKET). Only a client's port surely has none.
  const listener = !toSyn && senderIsListener(rc);
  const maybeListener = !toSyn && (listener || rc.sender.side === 'resp');
  const reason = maybeListener ? 'UNKNOWN' : 'NO_SOCKET';
  let why: string;
  let confidence: number;
  // (the first branches below decide `why` and `confidence`; one of them returns UNKNOWN)
  const toSynAck = (a & TH_SYN) !== 0 && (a & TH_ACK) !== 0;
  if (rc.sender.ev.syns > 0 && toSynAck) {
    why = 'it had given up connecting before the SYN-ACK came (or it is a SYN scanner)';
    confidence = 0.75;
  } else if (rc.senderState === 'TCP_TIME_WAIT') {
    return {
      kind: 'reset',
      by: rc.sender.side,
      reason: 'UNKNOWN',
      confidence: 0.35,
      frames: rstFrames(rc),
      time: r.ts,
      state: rc.senderState,
      candidates: ['NO_SOCKET', 'TCP_FLAGS'],
      calls: receiverCalls(rc),
      summary:
        `${rc.sender.Label} answered frame ${r.answerFrame} with RST (${at(r)}) after both sides had closed. A Linux TIME_WAIT socket answers with ACK, not RST: ` +
        `its TIME_WAIT socket was gone (NO_SOCKET / TCP_FLAGS) or it is another stack. ${receiverSentence(rc)}`,
      advice: 'Usually harmless after a completed close.',
      rstText: r.text,
    };
  } else if (rc.earlier !== null) {
    why = `its socket was gone since its own RST (frame ${rc.earlier.frame})`;
    confidence = 0.8;
  } else if (rc.senderState === 'TCP_SYN_SENT') {
    why = 'it had given up connecting before the SYN-ACK came';
    confidence = 0.8;
  } else if (r.senderSegments === 0) {
    why = 'it has no such connection (nothing from it before)';
    confidence = 0.75;
  } else if (rc.senderState === 'TCP_CLOSE') {
    why = 'its side was already closed and gone';
    confidence = 0.7;
  } else {
    why = 'it lost the connection without a FIN or RST (reboot, restart, failover) — or a middlebox answered for it';
    confidence = 0.55;
  }
  if (toSyn) confidence = Math.max(confidence, 0.85);
  else if (maybeListener) confidence = Math.min(confidence, 0.5);
  const reasonText = maybeListener
    ? `TCP_FLAGS if port ${rc.sender.port} still had a listener${listener ? ' (it had one)' : ''}, NO_SOCKET if not — the wire cannot tell`
    : 'NO_SOCKET';
  return {
    kind: 'reset',
    by: rc.sender.side,
    reason,
    confidence,
    frames: rstFrames(rc),
    time: r.ts,
    state: rc.senderState,
    candidates: toSyn || !maybeListener ? ['NO_SOCKET'] : listener ? ['TCP_FLAGS', 'NO_SOCKET'] : ['NO_SOCKET', 'TCP_FLAGS'],
    calls: receiverCalls(rc),
    summary:
      `${rc.sender.Label} answered frame ${r.answerFrame}${r.answerLen > 0 ? ` (${r.answerLen} bytes)` : ''} with RST (${at(r)}): ${why}; the kernel's reason: ${reasonText}. ${receiverSentence(rc)}`,
    advice:
      rc.earlier !== null
        ? 'Follows the first RST: fix that one.'
        : 'Why did the socket disappear? A restart, an idle timeout (keep the client\'s shorter than the server\'s), a load balancer sending to the wrong backend.',
    rstText: r.text,
  };
};
