/**
 * Refused: a SYN answered by RST+ACK from a side that never accepted it — no socket listens on
 * that port (the kernel's NO_SOCKET, from tcp_v4_rcv / tcp_v6_rcv after the lookup fails).
 * The client's connect() fails with ECONNREFUSED.
 */
import { TH_ACK, TH_SYN } from '../../dissect/packet.js';
import { endpointLabel, type FindingParts, type Side } from '../context.js';
import { NOBODY, sharedCalls } from '../errno.js';
import { at, isReply, rstFrames, type RstRule } from './rst-common.js';

/** The calls, by the refused side (shared, frozen). */
const CONNECT_REFUSED = sharedCalls({ call: 'connect', errno: 'ECONNREFUSED' });
const REFUSED_CALLS: Record<Side, FindingParts['calls']> = {
  orig: { orig: CONNECT_REFUSED, resp: NOBODY },
  resp: { orig: NOBODY, resp: CONNECT_REFUSED },
};

export const refused: RstRule = (rc) => {
  const r = rc.rec;
  const a = r.answerFlags;
  if (r.answerFrame === 0 || !(a & TH_SYN) || a & TH_ACK || !isReply(r)) return null;
  const s = rc.sender.ev;
  if (s.synAckFirstFrame > 0 && s.synAckFirstFrame < r.frame) return null;
  if (r.senderSegments > 0) return null;
  const retried = rc.receiver.ev.syns > 1 ? ` after ${rc.receiver.ev.syns} SYNs` : '';
  return {
    kind: 'refused',
    by: rc.sender.side,
    reason: 'NO_SOCKET',
    confidence: 0.95,
    frames: rstFrames(rc, rc.receiver.ev.synFirstFrame),
    time: r.ts,
    state: null,
    candidates: ['NO_SOCKET'],
    calls: REFUSED_CALLS[rc.receiver.side],
    summary:
      `${rc.sender.Label} refused ${rc.receiver.label}: RST (${at(r)}) to its SYN${retried}, nothing listens on port ${rc.sender.port} (NO_SOCKET; a firewall's "reject with tcp reset" looks the same). ` +
      `connect() fails with ECONNREFUSED "Connection refused".`,
    advice: `Is the service up and listening on ${endpointLabel(rc.sender.addr, rc.sender.port)} (ss -ltn; 127.0.0.1 vs 0.0.0.0)? Right host and port? A firewall rejecting it?`,
    rstText: r.text,
  };
};
