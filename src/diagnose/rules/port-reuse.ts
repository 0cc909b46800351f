/**
 * SYN-SENT answered with a wrong ACK → RST with the reason TCP_INVALID_ACK_SEQUENCE
 * (tcp_rcv_synsent_state_process: an ACK that does not acknowledge our SYN is answered with a
 * reset, RFC 9293 §3.10.7.3).
 *
 * When the wrong ACK is a pure ACK (no SYN), the peer still has an earlier connection on this
 * very 4-tuple: it took the new SYN for a stray segment of the old connection and answered with
 * an ACK for the old one (a challenge ACK, RFC 5961 §4). The client's RST — its sequence number
 * is the ACK it got, exactly the old connection's rcv_nxt — kills the stale connection, and the
 * SYN retransmitted about a second later succeeds: the seed's port-reuse experiment, where a
 * server leaking CLOSE_WAIT sockets meets a client whose ephemeral ports wrapped around.
 */
import { TH_ACK, TH_SYN } from '../../dissect/packet.js';
import { endpointKey, previousIncarnation } from '../context.js';
import { at, isReply, rstFrames, type RstRule } from './rst-common.js';

export const portReuse: RstRule = (rc) => {
  const r = rc.rec;
  if (rc.senderState !== 'TCP_SYN_SENT' || r.flags & TH_ACK || !isReply(r)) return null;
  const expected = (rc.sender.ev.synIsn + 1) | 0;
  if (r.answerAck === expected) return null;
  const client = rc.sender;
  const server = rc.receiver;
  const synFrame = client.ev.synLastFrame > 0 && client.ev.synLastFrame < r.answerFrame ? client.ev.synLastFrame : client.ev.synFirstFrame;
  if (r.answerFlags & TH_SYN) {
    return {
      kind: 'reset',
      by: client.side,
      reason: 'TCP_INVALID_ACK_SEQUENCE',
      confidence: 0.85,
      frames: rstFrames(rc, synFrame),
      time: r.ts,
      state: 'TCP_SYN_SENT',
      candidates: ['TCP_INVALID_ACK_SEQUENCE'],
      calls: { orig: [], resp: [] },
      summary:
        `${client.Label}, connecting, got a SYN-ACK (frame ${r.answerFrame}) acking ${r.answerAck >>> 0} instead of ${expected >>> 0} and reset it (${at(r)}, TCP_INVALID_ACK_SEQUENCE); its connect() goes on.`,
      advice: 'If it repeats: a middlebox rewriting sequence numbers, or a NAT mapping two clients onto one 4-tuple.',
      rstText: r.text,
    };
  }
  const prev = previousIncarnation(rc.ctx);
  let serverErrno: string | null = null;
  let oldState = 'still open';
  if (prev !== undefined) {
    const clientKey = endpointKey(client.addr, client.port);
    const serverKey = endpointKey(server.addr, server.port);
    const clientClosed = prev.finBy.includes(clientKey) || prev.rstBy.includes(clientKey);
    const serverClosed = prev.finBy.includes(serverKey) || prev.rstBy.includes(serverKey);
    if (clientClosed && !serverClosed) {
      serverErrno = 'EPIPE';
      oldState = 'in CLOSE_WAIT';
    } else if (!clientClosed && !serverClosed) {
      serverErrno = 'ECONNRESET';
      oldState = 'ESTABLISHED (its client vanished without FIN, or shares a NAT)';
    }
  }
  const serverCalls =
    serverErrno === 'EPIPE'
      ? [
          { call: 'send', errno: 'EPIPE', note: 'on the stale socket' },
        ]
      : serverErrno === 'ECONNRESET'
        ? [{ call: 'recv', errno: 'ECONNRESET', note: 'on the stale socket' }]
        : [];
  const calls = client.side === 'orig'
    ? { orig: [{ call: 'connect', errno: null, note: 'succeeds once the SYN is retransmitted' }], resp: serverCalls }
    : { orig: serverCalls, resp: [{ call: 'connect', errno: null, note: 'succeeds once the SYN is retransmitted' }] };
  return {
    kind: 'port-reuse',
    by: client.side,
    reason: 'TCP_INVALID_ACK_SEQUENCE',
    confidence: client.ev.fins > 0 || client.ev.dataSegs > 0 ? 0.6 : 0.9,
    frames: rstFrames(rc, synFrame),
    time: r.ts,
    state: 'TCP_SYN_SENT',
    candidates: ['TCP_INVALID_ACK_SEQUENCE'],
    calls,
    summary:
      `Port reuse: ${client.label} reused port ${client.port} while ${server.label} still had the old connection ${oldState}. Its SYN (frame ${synFrame}) got an ACK for the old one ` +
      `(frame ${r.answerFrame}, a challenge ACK); the client reset it (${at(r)}, TCP_INVALID_ACK_SEQUENCE), killing the stale socket` +
      `${serverErrno === null ? '' : ` (its application: ${serverErrno})`}, and its retransmitted SYN then succeeds.`,
    advice: 'The server leaks connections its clients closed (CLOSE_WAIT: ss -tan state close-wait, tcpsleuth leaks): close() when recv() returns 0 and on every error path.',
    rstText: r.text,
  };
};
