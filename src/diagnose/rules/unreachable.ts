/**
 * An ICMP destination-unreachable error quoting one of the connection's segments while the
 * client was still connecting: Linux aborts the attempt at once (tcp_v4_err / tcp_v6_err in
 * SYN-SENT) with the errno icmp_err_convert gives — port unreachable → ECONNREFUSED (a firewall's
 * "reject with icmp port-unreachable", iptables' default REJECT), host/net unreachable →
 * EHOSTUNREACH/ENETUNREACH, administratively prohibited → EHOSTUNREACH (IPv4) or EACCES (IPv6).
 * On an established connection the error is "soft": recorded, and reported only if the
 * retransmissions then time out (instead of ETIMEDOUT).
 */
import { type DiagnosisContext, type FindingParts } from '../context.js';
import { icmpErrno, icmpText } from '../errno.js';

export function unreachable(ctx: DiagnosisContext, out: FindingParts[]): void {
  const c = ctx.c;
  if (c.icmpErrors === 0) return;
  const v4 = c.origA0 === 0 && c.origA1 === 0 && c.origA2 === 0xffff;
  const errno = icmpErrno(v4 ? 4 : 6, c.icmpType, c.icmpCode);
  if (errno === null) return;
  const text = icmpText(v4 ? 4 : 6, c.icmpType, c.icmpCode);
  const connecting = ctx.resp.ev.synAcks === 0 && ctx.orig.ev.syns > 0;
  out.push({
    kind: 'unreachable',
    by: 'network',
    reason: 'NONE',
    confidence: connecting ? 0.9 : 0.6,
    frames: [ctx.orig.ev.synFirstFrame, c.icmpFirstFrame],
    time: c.startTime,
    state: connecting ? 'TCP_SYN_SENT' : null,
    candidates: [],
    calls: connecting
      ? { orig: [{ call: 'connect', errno }], resp: [] }
      : { orig: [{ call: 'send', errno: null, note: `soft error: ${errno} only on a later timeout` }], resp: [] },
    summary: connecting
      ? `${ctx.orig.Label}'s connection to ${ctx.resp.label} was answered by ${text} (frame ${c.icmpFirstFrame}${c.icmpErrors > 1 ? `, ${c.icmpErrors} in all` : ''}): connect() fails at once with ${errno}.` +
        `${errno === 'ECONNREFUSED' ? ' TCP stacks answer with RST, not ICMP: a firewall rejected it.' : ''}`
      : `${text} arrived for this established connection (frame ${c.icmpFirstFrame}): a soft error, ${errno} only if it later times out.`,
    advice: errno === 'ECONNREFUSED' || errno === 'EACCES' || (v4 && (c.icmpCode === 9 || c.icmpCode === 10 || c.icmpCode === 13))
      ? 'A firewall rejects this traffic: check the rules on the path and the server.'
      : `Check the route to ${ctx.resp.addr} and the router that sent the ICMP error.`,
    rstText: null,
  });
}
