/**
 * Slow connect: the client's first SYNs got no answer and a later one did, and the client
 * completed the handshake: connect() succeeded, late. Linux retransmits an unanswered SYN after
 * 1 s and then at doubling intervals, so such connects take 1, 3, 7, 15 … s; since Linux 6.5,
 * net.ipv4.tcp_syn_linear_timeouts (default 4) keeps the first five retries 1 s apart before the
 * doubling, so they take 1, 2, 3, 4, 5, 7, 11 … s (connect-attempt.ts, synSchedule): the
 * latencies that give away lost SYNs. The wire shows that an answer was missing, not where it was lost. A
 * listener whose accept queue is full drops new SYNs silently (tcp_conn_request: ListenOverflows,
 * ListenDrops); loss on the path, a firewall or a rate limit drop a SYN or its SYN-ACK on the way
 * (a capture near the client cannot tell those two apart). All SYNs came before the first SYN-ACK
 * the capture shows: a SYN after it means that SYN-ACK was lost on the way back, which the
 * handshake rule tells. A client that answers the SYN-ACK with an RST had given up already: that
 * connect() failed, and no slow connect is claimed.
 *
 * When the first SYNs took longer than Zeek's attempt timer (5 s), the attempt spans several
 * records (rules/connect-attempt.ts); the answered one tells the whole connect().
 */
import { type DiagnosisContext, type FindingParts, clock, epochOf, seconds } from '../context.js';
import { extendAttempt, scheduleText, scheduleWords, synSchedule, takeEarlierAttempt } from './connect-attempt.js';

export function slowConnect(ctx: DiagnosisContext, out: FindingParts[]): void {
  const o = ctx.orig.ev;
  const r = ctx.resp.ev;
  if (o.syns === 0 || r.synAcks === 0 || o.synLastFrame > r.synAckFirstFrame || o.firstAckFrame < r.synAckFirstFrame) return;
  // Taken even when it tells nothing: an answered attempt ends the story.
  const earlier = takeEarlierAttempt(ctx);
  if (earlier === undefined && o.syns < 2) return;
  const attempt = extendAttempt(ctx, earlier);
  const first = attempt.pieces[0]!.firstTime;
  const took = epochOf(ctx, r.synAckFirstMs) - first;
  const lost = attempt.syns - 1;
  const series = attempt.pieces.length > 1;
  const split = series ? ` Zeek's attempt timer split this connect() into ${attempt.pieces.length} records: ${scheduleText(attempt, ctx.c.id)}.` : '';
  const words = scheduleWords(attempt, synSchedule(attempt));
  const backoff = words === '' ? '' : words.endsWith(' intervals') ? `, at ${words},` : `, ${words},`;
  const parts: FindingParts = {
    kind: 'slow-connect',
    by: 'network',
    reason: 'NONE',
    // SYNs repeated with the same ISN and then answered say "dropped" without doubt; the backoff of
    // a kernel's SYN timer makes it a connect() rather than a tool resending by hand.
    confidence: attempt.backoffs >= 1 || attempt.syns === 2 ? 0.85 : 0.7,
    frames: [o.synFirstFrame, r.synAckFirstFrame],
    time: first,
    state: 'TCP_SYN_SENT',
    candidates: [],
    calls: { orig: [{ call: 'connect', errno: null, note: `returns after ${seconds(took)}` }], resp: [] },
    summary:
      `${ctx.orig.Label} sent ${attempt.syns} SYNs${backoff} before ${ctx.resp.label} answered: the SYN-ACK came ${seconds(took)} after the first SYN ` +
      `(${clock(first)}, frame ${attempt.firstFrame}). The first ${lost === 1 ? 'SYN or its SYN-ACK was' : `${lost} SYNs or their SYN-ACKs were`} lost; connect() succeeded, ${seconds(took)} late.${split} ` +
      `Linux resends an unanswered SYN after 1 s and then at doubling intervals (connects 1, 3, 7, 15 s late), or, since Linux 6.5 (net.ipv4.tcp_syn_linear_timeouts = 4), ` +
      `1 s apart five times before the doubling (1, 2, 3, 4, 5, 7, 11 s late): such latencies are lost SYNs or SYN-ACKs.`,
    advice:
      `On ${ctx.resp.addr}: nstat -az TcpExtListenOverflows TcpExtListenDrops. Growing counters mean the listener's accept queue was full and its kernel dropped the SYNs: accept() faster, a bigger listen() backlog and net.core.somaxconn. ` +
      `Otherwise loss, a firewall or a rate limit on the path, either way: a capture on the server shows whether the first SYNs arrived and were answered.`,
    rstText: null,
  };
  if (series) parts.continues = attempt.pieces.slice(0, -1).map((p) => p.id);
  out.push(parts);
}
