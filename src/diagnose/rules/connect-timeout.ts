/**
 * Connect timeout: the client's SYNs got no answer at all — no SYN-ACK, no RST, no ICMP. Linux
 * retransmits a SYN after 1 s and then at doubling intervals (1, 3, 7, 15, 31, 63 s after the
 * first) and gives up after tcp_syn_retries (6) at about 127 s: connect() fails with ETIMEDOUT.
 * Silence means the SYNs were dropped: a firewall that drops instead of rejecting, a host that is
 * down or does not exist (no ARP answer on its LAN), a broken route — or a SYN queue overflow.
 */
import { type DiagnosisContext, type FindingParts, clock, epochOf, seconds } from '../context.js';
import { CONNECT_TIMEOUT } from '../errno.js';

export function connectTimeout(ctx: DiagnosisContext, out: FindingParts[]): void {
  const o = ctx.orig.ev;
  const r = ctx.resp.ev;
  if (o.syns === 0 || r.segments > 0 || ctx.c.icmpErrors > 0) return;
  if (o.segments !== o.syns + o.rstCount) return;
  const first = epochOf(ctx, o.synFirstMs);
  const last = epochOf(ctx, o.synLastMs);
  const watched = ctx.observedUntil - last;
  const backoffs = o.rare?.synBackoffs ?? 0;
  let confidence: number;
  if (o.syns >= 3 && backoffs >= 1) confidence = 0.9;
  else if (o.syns >= 2) confidence = 0.75;
  else if (watched >= 3) confidence = 0.6;
  else if (watched >= 1) confidence = 0.4;
  else return; // one SYN and the capture ends right after it: nothing to conclude
  const schedule = o.syns > 1 ? `${o.syns} SYNs over ${seconds(last - first)}${backoffs >= 1 ? ' (doubling intervals)' : ''}` : 'one SYN';
  out.push({
    kind: 'connect-timeout',
    by: 'network',
    reason: 'NONE',
    confidence,
    frames: [o.synFirstFrame, o.synLastFrame],
    time: first,
    state: 'TCP_SYN_SENT',
    candidates: [],
    calls: { orig: CONNECT_TIMEOUT, resp: [] },
    summary:
      `${ctx.orig.Label} got no answer from ${ctx.resp.label} at ${clock(first)}: ${schedule}, no SYN-ACK, RST or ICMP (${seconds(Math.max(0, watched))} watched after the last). ` +
      `Dropped on the way (firewall DROP, host down, no route); connect() fails with ETIMEDOUT "Connection timed out" after ~127 s.`,
    advice: `Is ${ctx.resp.addr} up and routed (ip route get)? A firewall or security group dropping port ${ctx.resp.port}? Do the SYNs reach the server (capture there)?`,
    rstText: null,
  });
}
