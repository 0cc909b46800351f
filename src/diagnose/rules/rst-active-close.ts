/**
 * An RST the sender's socket sent on its own (RST+ACK at its snd_nxt, answering nothing): its
 * application aborted the connection in close(). Two kernel paths look the same on the wire:
 *
 * - close() with unread data in the receive queue → TCP_ABORT_ON_CLOSE (tcp_close; checked first,
 *   so it wins even with SO_LINGER {1,0});
 * - close() with SO_LINGER {1,0} and nothing unread (Java setSoLinger(true, 0), Node
 *   socket.resetAndDestroy(), Go SetLinger(0)) → tcp_disconnect → TCP_STATE.
 *
 * The wire shows the unread data only indirectly: payload the peer sent after the sender last sent
 * anything (data or FIN) that the sender never answered. So: such unanswered data → ABORT_ON_CLOSE;
 * no data from the peer at all → TCP_STATE (nothing could be unread); data the sender did answer,
 * and nothing since → UNKNOWN with both candidates (it may have read all of it, or only part).
 */
import { bytesText } from '../context.js';
import { at, isActive, isReply, pendingWords, receiverCalls, receiverSentence, rstFrames, type RstRule } from './rst-common.js';

export const activeClose: RstRule = (rc) => {
  const r = rc.rec;
  if (!isActive(r) || isReply(r)) return null;
  const peerData = rc.receiver.ev.firstDataFrame > 0 && rc.receiver.ev.firstDataFrame < r.frame;
  const sentFin = rc.sender.ev.finFrame > 0 && rc.sender.ev.finFrame < r.frame;
  const who = rc.sender.Label;
  const by = rc.sender.side;
  const calls = receiverCalls(rc);
  const instead = sentFin ? `after its FIN (frame ${rc.sender.ev.finFrame})` : 'instead of a FIN';
  if (r.pendingRx > 0) {
    // Data that came after the sender's own data may be a response it did read (then closed with
    // SO_LINGER 0): less sure than data it never answered at all.
    const senderSpoke = rc.sender.ev.firstDataFrame > 0 && rc.sender.ev.firstDataFrame < r.frame;
    return {
      kind: 'reset',
      by,
      reason: 'TCP_ABORT_ON_CLOSE',
      confidence: senderSpoke ? 0.6 : 0.85,
      frames: rstFrames(rc, r.pendingRxFrame),
      time: r.ts,
      state: rc.senderState,
      candidates: ['TCP_ABORT_ON_CLOSE', 'TCP_STATE'],
      calls,
      summary:
        `${who} reset the connection ${instead} (${at(r)}) with ${pendingWords(rc)} unanswered: its application closed the socket without reading it ` +
        `(close() with unread data: TCP_ABORT_ON_CLOSE; SO_LINGER 0 after reading all, TCP_STATE, looks the same). ${receiverSentence(rc)}`,
      advice: 'Read what the peer sent (until end of stream) before close(); to refuse early: respond, shutdown(SHUT_WR), drain, then close().',
      rstText: r.text,
    };
  }
  const finAcked = sentFin && rc.sender.ev.finAckedFrame > 0 && rc.sender.ev.finAckedFrame < r.frame;
  if (!peerData && finAcked) {
    // FIN_WAIT2: SO_LINGER 0 (tcp_disconnect → TCP_STATE), TCP_LINGER2 < 0 (TCP_ABORT_ON_LINGER), or the orphan's FIN_WAIT2 timer (TCP_STATE).
    return {
      kind: 'reset',
      by,
      reason: 'UNKNOWN',
      confidence: 0.5,
      frames: rstFrames(rc, rc.sender.ev.finFrame, rc.sender.ev.finAckedFrame),
      time: r.ts,
      state: rc.senderState,
      candidates: ['TCP_STATE', 'TCP_ABORT_ON_LINGER'],
      calls,
      summary:
        `${who} reset the connection (${at(r)}) after its FIN had been acknowledged (frame ${rc.sender.ev.finAckedFrame}), with nothing unread: in FIN_WAIT2, close() with SO_LINGER 0 ` +
        `or the orphan's FIN_WAIT2 timer (TCP_STATE) and close() with TCP_LINGER2 < 0 (TCP_ABORT_ON_LINGER) look the same. ${receiverSentence(rc)}`,
      advice: 'Harmless for data already acknowledged; check the application\'s SO_LINGER / TCP_LINGER2 settings and tcp_fin_timeout.',
      rstText: r.text,
    };
  }
  if (!peerData) {
    return {
      kind: 'reset',
      by,
      reason: 'TCP_STATE',
      confidence: sentFin ? 0.6 : 0.8,
      frames: rstFrames(rc),
      time: r.ts,
      state: rc.senderState,
      candidates: sentFin ? ['TCP_STATE', 'TCP_ABORT_ON_MEMORY'] : ['TCP_STATE'],
      calls,
      summary:
        `${who} aborted the connection ${instead} (${at(r)}) with nothing unread (${rc.receiver.who} had sent no data): an abortive close, SO_LINGER {1,0} ` +
        `(TCP_STATE)${sentFin ? ', or the kernel giving up an orphaned closing socket' : ''}. ${receiverSentence(rc)}`,
      advice: 'SO_LINGER 0 (setSoLinger(true,0), resetAndDestroy(), SetLinger(0)) resets on purpose; prefer a normal close(): TIME_WAIT is harmless.',
      rstText: r.text,
    };
  }
  return {
    kind: 'reset',
    by,
    reason: 'UNKNOWN',
    confidence: 0.5,
    frames: rstFrames(rc, rc.receiver.ev.lastDataFrame < r.frame ? rc.receiver.ev.lastDataFrame : 0),
    time: r.ts,
    state: rc.senderState,
    candidates: ['TCP_ABORT_ON_CLOSE', 'TCP_STATE'],
    calls,
    summary:
      `${who} aborted the connection ${instead} (${at(r)}) after answering ${rc.receiver.who}'s ${bytesText(rc.receiver.ev.dataBytes)}: the wire cannot tell ` +
      `a close() with part of it unread (TCP_ABORT_ON_CLOSE) from SO_LINGER 0 after reading all (TCP_STATE). ${receiverSentence(rc)}`,
    advice: 'Does that application close with unread input, or set SO_LINGER 0? tcpsleuth trace on its host names the reason.',
    rstText: r.text,
  };
};
