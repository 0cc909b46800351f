/**
 * A new SYN (another initial sequence number) arriving while the handshake is half done: the
 * request socket answers it with RST, reason INVALID_SYN (tcp_check_req → embryonic_reset).
 */
import { TH_ACK, TH_SYN } from '../../dissect/packet.js';
import { at, isReply, rstFrames, type RstRule } from './rst-common.js';

export const invalidSyn: RstRule = (rc) => {
  const r = rc.rec;
  if (rc.senderState !== 'TCP_SYN_RECV' || !isReply(r)) return null;
  if (!(r.answerFlags & TH_SYN) || r.answerFlags & TH_ACK || r.answerSeq === rc.receiver.ev.synIsn) return null;
  return {
    kind: 'reset',
    by: rc.sender.side,
    reason: 'INVALID_SYN',
    confidence: 0.65,
    frames: rstFrames(rc, rc.receiver.ev.synFirstFrame, rc.sender.ev.synAckFirstFrame),
    time: r.ts,
    state: 'TCP_SYN_RECV',
    candidates: ['INVALID_SYN', 'NO_SOCKET'],
    calls: { orig: [], resp: [] },
    summary:
      `${rc.sender.Label} had sent a SYN-ACK (frame ${rc.sender.ev.synAckFirstFrame}) when a SYN with another sequence number came (frame ${r.answerFrame}); it reset the half-open connection (${at(r)}, INVALID_SYN).`,
    advice: 'Two attempts on one 4-tuple: a NAT reusing a mapping early, or a fixed client source port.',
    rstText: r.text,
  };
};
