/**
 * An RST the claimed sender's TCP stack did not send: a firewall, load balancer, NAT or IPS in
 * the path forged it. Two signs, each impossible for a genuine RST:
 * - the TTL (IPv6 hop limit) is outside the range of every other segment of that side — one
 *   host's stack uses one initial TTL and the path length does not change between two packets;
 * - the "sender" kept talking afterwards (non-SYN segments): a stack that sent an RST has
 *   destroyed the socket and can only answer further segments with RSTs.
 * - an IPv4 reply RST with a wrong TCP checksum, in a capture taken on the sender's host: the
 *   kernel's own replies (tcp_v4_send_reset → ip_send_unicast_reply) always carry a complete
 *   checksum, while netfilter's "reject with tcp reset" (nf_send_reset) leaves it to checksum
 *   offload, so before the NIC it is still partial. (Active RSTs and all IPv6 replies use offload
 *   too, so the sign applies to IPv4 replies only; captured elsewhere, every checksum is complete
 *   and the sign is absent — never a false alarm, sometimes a miss.)
 * IP-ID is not used: Linux gives replies from its control socket ID 0 and connected sockets a
 * counter, so even a genuine RST breaks the ID sequence.
 */
import { TH_ACK, TH_SYN } from '../../dissect/packet.js';
import type { FindingParts } from '../context.js';
import { at, isReply, receiverCalls, receiverSentence, rstFrames, type RstRule } from './rst-common.js';

export const middleboxReset: RstRule = (rc) => {
  const r = rc.rec;
  const ttlKnown = r.ttlMin <= r.ttlMax && r.senderSegments >= 2;
  const ttlOdd = ttlKnown && (r.ttl < r.ttlMin || r.ttl > r.ttlMax);
  const keptTalking = r.senderLater > 0;
  const reply = isReply(r);
  const netfilter = r.ipVersion === 4 && r.checksumOk === false && reply;
  if (!ttlOdd && !keptTalking && !netfilter) return null;
  const signs: string[] = [];
  if (netfilter) signs.push('its TCP checksum is left for offload, which the kernel\'s own replies never do (netfilter\'s "reject with tcp reset" does)');
  if (ttlOdd) signs.push(`TTL ${r.ttl}, not ${r.ttlMin === r.ttlMax ? r.ttlMin : `${r.ttlMin}–${r.ttlMax}`} like its other segments`);
  if (keptTalking) signs.push(`that side kept sending (${r.senderLater} segment${r.senderLater === 1 ? '' : 's'} from frame ${r.senderLaterFrame})`);
  const toSyn = reply && (r.answerFlags & TH_SYN) !== 0 && !(r.answerFlags & TH_ACK);
  const n = (ttlOdd ? 1 : 0) + (keptTalking ? 1 : 0) + (netfilter ? 1 : 0);
  const parts: FindingParts = {
    kind: toSyn ? 'refused' : 'middlebox-reset',
    by: 'network',
    reason: 'UNKNOWN',
    confidence: n >= 2 ? 0.9 : keptTalking || netfilter ? 0.8 : 0.7,
    frames: rstFrames(rc, r.senderLaterFrame),
    time: r.ts,
    state: null,
    candidates: [],
    calls: receiverCalls(rc),
    summary:
      `The RST "from" ${rc.sender.label} (${at(r)}${toSyn ? ', answering the SYN' : ''}) is not from its TCP stack: ${signs.join('; ')}. ` +
      `${netfilter ? 'A firewall rule on that host' : 'A firewall, load balancer or NAT'} ${toSyn ? 'refused' : 'reset'} this connection. ${receiverSentence(rc)}`,
    advice: 'Find the box on the path: NAT/LB/firewall idle timeouts (keepalive below them), IPS rules, reject rules; capture on both sides of it.',
    rstText: r.text,
  };
  return parts;
};
