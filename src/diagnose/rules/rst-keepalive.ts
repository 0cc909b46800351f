/**
 * Keepalive timeout: the sender's keepalive probes (seq = snd.nxt - 1, no data or one byte) went
 * unanswered, then it sent an active RST: tcp_keepalive_timer gave up after tcp_keepalive_probes
 * and reset with TCP_KEEPALIVE_TIMEOUT; its application gets ETIMEDOUT (tcp_write_err).
 */
import { epochOf, seconds } from '../context.js';
import { WRITE_TIMEOUT } from '../errno.js';
import { at, isActive, receiverCalls, rstFrames, type RstRule } from './rst-common.js';

export const keepaliveReset: RstRule = (rc) => {
  const r = rc.rec;
  if (r.keepaliveUnanswered === 0 || !isActive(r)) return null;
  const ka = rc.sender.ev.rare!;
  const n = r.keepaliveUnanswered;
  return {
    kind: 'keepalive-timeout',
    by: rc.sender.side,
    reason: 'TCP_KEEPALIVE_TIMEOUT',
    confidence: n >= 3 ? 0.9 : 0.75,
    frames: rstFrames(rc, ka.kaFirstFrame, ka.kaLastFrame),
    time: r.ts,
    state: rc.senderState,
    candidates: ['TCP_KEEPALIVE_TIMEOUT'],
    calls: receiverCalls(rc, WRITE_TIMEOUT),
    summary:
      `${rc.sender.Label}'s ${n} keepalive probe${n === 1 ? '' : 's'} (frames ${ka.kaFirstFrame}–${ka.kaLastFrame}, last ${seconds(Math.max(0, r.ts - epochOf(rc.ctx, ka.kaLastMs)))} before) went unanswered; ` +
      `it reset the connection (${at(r)}, TCP_KEEPALIVE_TIMEOUT) and its application gets ETIMEDOUT "Connection timed out". ${rc.receiver.Who} is gone, or a middlebox dropped the state.`,
    advice: 'The peer died or a NAT/firewall forgot the connection: keep the keepalive time below its idle timeout; reconnect on ETIMEDOUT.',
    rstText: r.text,
  };
};
