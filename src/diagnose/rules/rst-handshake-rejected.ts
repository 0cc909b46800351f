/**
 * The segment that completes the handshake (the client's first ACK of the SYN-ACK, often with
 * data) answered with RST by the server's listener while its SYN-ACK was still fresh: the request
 * could not become a connection. On Linux that is the accept-queue overflow with
 * net.ipv4.tcp_abort_on_overflow = 1 — tcp_check_req() resets and names every embryonic reset
 * INVALID_SYN. (A request that had expired — tcp_synack_retries used up — would leave only the
 * listener, which says TCP_FLAGS.) The client believed it was connected; its recv() gets ECONNRESET.
 */
import { at, isReply, receiverCalls, receiverSentence, rstFrames, type RstRule } from './rst-common.js';

export const handshakeRejected: RstRule = (rc) => {
  const r = rc.rec;
  const s = rc.sender.ev;
  if (s.synAcks === 0 || s.synAckFirstFrame >= r.frame || !isReply(r)) return null;
  if (rc.receiver.ev.firstAckFrame !== r.answerFrame || r.answerAck !== r.senderSndNxt) return null;
  if (s.dataSegs > 0 || s.fins > 0) return null;
  const retried = s.synAcks > 1;
  return {
    kind: 'accept-overflow',
    by: rc.sender.side,
    reason: retried ? 'UNKNOWN' : 'INVALID_SYN',
    confidence: retried ? 0.5 : 0.75,
    frames: rstFrames(rc, s.synAckFirstFrame),
    time: r.ts,
    state: 'TCP_SYN_RECV',
    candidates: retried ? ['INVALID_SYN', 'TCP_FLAGS'] : ['INVALID_SYN', 'TCP_FLAGS'],
    calls: receiverCalls(rc),
    summary:
      `${rc.sender.Label}'s listener reset the connection (${at(r)}) when ${rc.receiver.who}'s segment completing the handshake arrived (frame ${r.answerFrame}): ` +
      `its accept queue was full and tcp_abort_on_overflow = 1 (the kernel names that reset INVALID_SYN${retried ? '; after SYN-ACK retries an expired request gives TCP_FLAGS' : ''}). ${receiverSentence(rc)}`,
    advice: 'The server does not accept() fast enough or its backlog is too small (somaxconn); tcp_abort_on_overflow = 0 would let the client retry instead.',
    rstText: r.text,
  };
};
