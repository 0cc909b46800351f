/**
 * Connect timeout: the client's SYNs got no answer at all — no SYN-ACK, no RST, no ICMP. Linux
 * retransmits a SYN after 1 s and then at doubling intervals (1, 3, 7, 15, 31, 63 s after the
 * first) and gives up after tcp_syn_retries (6) at about 127 s: connect() fails with ETIMEDOUT.
 * Since Linux 6.5, net.ipv4.tcp_syn_linear_timeouts (default 4) keeps the first retries 1 s apart
 * before the doubling starts: SYNs at 0, 1, 2, 3, 4, 5, 7, 11, 19, 35, 67 s (tcp_syn_retries +
 * tcp_syn_linear_timeouts retries), ETIMEDOUT at about 131 s (connect-attempt.ts, synSchedule).
 * Silence means the SYNs were dropped: a firewall that drops instead of rejecting, a host that is
 * down or does not exist (no ARP answer on its LAN), a broken route — or a listener whose accept
 * queue is full: tcp_conn_request drops the SYN without an answer (TcpExtListenOverflows,
 * TcpExtListenDrops; the SYN is consumed, no skb drop reason is traced for it).
 *
 * When the server's address and port answered other SYNs in this capture before this record
 * ended (DiagnosisMemory knows it as a listener from its SYN-ACKs, noted as they go by in
 * analyze.ts), the full accept queue comes first and a firewall rate limit second: the listener
 * exists and was reachable. A listener that first answers after this record ended is not known
 * yet: the record reads as dropped on the way.
 *
 * Zeek gives up on an unanswered attempt tcp_attempt_delay (5 s) after its first SYN, so one
 * connect() on that schedule becomes several S0 records on the same 4-tuple, all with the same
 * initial sequence number: SYNs [0 1 3] [7] [15] [31] [63] (or [0 1 2 3 4] [5 7] [11] [19] [35] [67]).
 * Each record the timer cut while the client was still retrying (at least two SYNs so far, fewer
 * than its schedule ever sends) is remembered (DiagnosisMemory); the finding of a later record
 * tells the whole attempt so far — every record's SYNs, the total span, the backoff across them —
 * with the confidence of the whole series. An earlier record cannot know its sequel (records are
 * written as connections end), so it says where the story continues.
 */
import { type DiagnosisContext, type FindingParts, clock, endpointLabel, epochOf, seconds } from '../context.js';
import { u32 } from '../../tcp/seq.js';
import { connectTimedOut, extendAttempt, maxSynsPerConnect, rememberAttempt, scheduleText, scheduleWords, synSchedule, takeEarlierAttempt, timeoutText } from './connect-attempt.js';
import { TCP_ATTEMPT_DELAY } from '../../tcp/timers.js';

export function connectTimeout(ctx: DiagnosisContext, out: FindingParts[]): void {
  const o = ctx.orig.ev;
  const r = ctx.resp.ev;
  if (o.syns === 0 || r.segments > 0 || ctx.c.icmpErrors > 0) return;
  if (o.segments !== o.syns + o.rstCount) return;
  const timedOut = ctx.endReason === 'timeout' && o.rstCount === 0;
  const attempt = extendAttempt(ctx, takeEarlierAttempt(ctx));
  // Zeek's timer ended this record while connect() was still retrying: a later record may continue
  // it. A lone SYN is more often a scan than a connect(): remembering each would fill the memory.
  const schedule = synSchedule(attempt);
  const cut = timedOut && attempt.syns >= 2 && attempt.syns < maxSynsPerConnect(schedule);
  if (cut) rememberAttempt(ctx, attempt);
  const first = attempt.pieces[0]!.firstTime;
  const last = epochOf(ctx, o.synLastMs);
  const watched = ctx.observedUntil - last;
  const series = attempt.pieces.length > 1;
  let confidence: number;
  if (attempt.syns >= 3 && attempt.backoffs >= 1) confidence = 0.9;
  else if (attempt.syns >= 2) confidence = 0.75;
  else if (watched >= 3) confidence = 0.6;
  else if (watched >= 1) confidence = 0.4;
  else return; // one SYN and the capture ends right after it: nothing to conclude
  const words = scheduleWords(attempt, schedule);
  const backoff = words !== '' ? ` (${words})` : '';
  const syns = series
    ? `${attempt.syns} SYNs with the same initial sequence number over ${seconds(last - first)}${backoff}`
    : o.syns > 1
      ? `${o.syns} SYNs over ${seconds(last - first)}${backoff}`
      : 'one SYN';
  const since = series ? `since ${clock(first)} (frame ${attempt.firstFrame})` : `at ${clock(first)}`;
  const split = series
    ? ` It is one connect() that Zeek's ${TCP_ATTEMPT_DELAY} s attempt timer split into ${attempt.pieces.length} records: ${scheduleText(attempt, ctx.c.id)}.`
    : '';
  // The server's endpoint answered other SYNs (a listener): reachable, so the accept queue first.
  const listener = ctx.memory.isListener(ctx.resp.hash);
  const dropped = listener
    ? `${endpointLabel(ctx.resp.addr, ctx.resp.port)} answered other SYNs in this capture: it listens and is reachable, so its accept queue was most likely full — ` +
      `a listener whose application does not accept() fast enough (or whose listen() backlog is too small) drops new SYNs without a trace on the wire (tcp_conn_request: TcpExtListenOverflows, TcpExtListenDrops). ` +
      `Otherwise a firewall rate limit dropped these SYNs`
    : 'Dropped on the way (firewall DROP, host down, no route)';
  const timeout = timeoutText(schedule);
  const sequel = cut
    ? ` Zeek's attempt timer closed this record; SYNs the client sent later (same ISN, ${u32(o.synIsn)}) continue it in a new record on this 4-tuple.`
    : '';
  const parts: FindingParts = {
    kind: 'connect-timeout',
    by: 'network',
    reason: 'NONE',
    confidence,
    frames: [o.synFirstFrame, o.synLastFrame],
    time: epochOf(ctx, o.synFirstMs),
    state: 'TCP_SYN_SENT',
    candidates: [],
    calls: { orig: connectTimedOut(timeout), resp: [] },
    summary:
      `${ctx.orig.Label} got no answer from ${ctx.resp.label} ${since}: ${syns}, no SYN-ACK, RST or ICMP${watched >= 0.001 ? ` (${seconds(watched)} watched after the last)` : ''}.${split} ` +
      `${dropped}; connect() fails with ETIMEDOUT "Connection timed out" after ${timeout}.${sequel}`,
    advice: listener
      ? `On ${ctx.resp.addr}: nstat -az TcpExtListenOverflows TcpExtListenDrops — growing counters mean the accept queue was full (ss -ltn 'sport = :${ctx.resp.port}': Recv-Q above Send-Q, the backlog): accept() faster, a bigger listen() backlog and net.core.somaxconn. ` +
        `ListenDrops growing alone, with TcpExtTCPReqQFullDrop: the SYN queue (net.ipv4.tcp_max_syn_backlog, syncookies off). Neither: a rate limit in the firewall (nft list ruleset, iptables -L -v: limit, hashlimit, connlimit).`
      : `Is ${ctx.resp.addr} up and routed (ip route get)? A firewall or security group dropping port ${ctx.resp.port}? Do the SYNs reach the server (capture there)?`,
    rstText: null,
  };
  if (series) parts.continues = attempt.pieces.slice(0, -1).map((p) => p.id);
  out.push(parts);
}
