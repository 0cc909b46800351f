/**
 * TIME_WAIT assassination (RFC 1337): the RST reaches a socket in TIME_WAIT — its side closed
 * first, the peer's FIN came and was acknowledged. Unless net.ipv4.tcp_rfc1337 = 1 the kernel
 * kills the TIME_WAIT socket (tcp_timewait_state_process), so the 4-tuple can be reused at once
 * and an old duplicate segment could be taken for new data.
 */
import { isActive, isReply, rstFrames, senderIsListener, at, type RstRule } from './rst-common.js';

export const timewaitAssassination: RstRule = (rc) => {
  if (rc.receiverState !== 'TCP_TIME_WAIT') return null;
  const r = rc.rec;
  const reply = isReply(r);
  const listener = senderIsListener(rc);
  const maybeListener = listener || rc.sender.side === 'resp';
  const reason = reply && !maybeListener ? 'NO_SOCKET' : 'UNKNOWN';
  return {
    kind: 'time-wait-assassination',
    by: rc.sender.side,
    reason,
    confidence: reply ? 0.6 : 0.4,
    frames: rstFrames(rc, rc.receiver.ev.finFrame, rc.sender.ev.finFrame),
    time: r.ts,
    state: rc.senderState,
    candidates: reply ? (maybeListener ? ['NO_SOCKET', 'TCP_FLAGS'] : ['NO_SOCKET']) : isActive(r) ? ['TCP_STATE'] : [],
    calls: { orig: [], resp: [] },
    summary:
      `After both FINs (${rc.receiver.who} first, frame ${rc.receiver.ev.finFrame}), ${rc.sender.label} sent an RST (${at(r)}${reply ? `, answering frame ${r.answerFrame}: its socket was gone — ${maybeListener ? 'NO_SOCKET, or TCP_FLAGS if a listener still owns the port' : 'NO_SOCKET'}` : ''}) ` +
      `that kills ${rc.receiver.who}'s TIME_WAIT socket early unless tcp_rfc1337 = 1 (RFC 1337). No application sees it.`,
    advice: 'Usually harmless; net.ipv4.tcp_rfc1337 = 1 on the TIME_WAIT side ignores such RSTs.',
    rstText: r.text,
  };
};
