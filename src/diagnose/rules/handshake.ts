/**
 * Handshakes that do not finish:
 * - SYN-ACK without ACK: the server answered, the client never completed. If the client kept
 *   retransmitting its SYN, the SYN-ACKs never reached it (lost or filtered on the way back: the
 *   capture is on the server's side of the problem). If it stayed silent, it is gone (or the SYN
 *   was spoofed — a SYN flood); the server holds a half-open SYN_RECV entry and retransmits the
 *   SYN-ACK tcp_synack_retries (5) times, about 63 s.
 * - SYN-ACK retransmitted after the client's ACK: the server's kernel dropped that ACK because the
 *   listener's accept queue was full (ListenOverflows) — the application does not accept() fast
 *   enough, or its listen() backlog is too small.
 */
import { type DiagnosisContext, type FindingParts, clock, epochOf } from '../context.js';
import { connectTimedOut, timeoutText } from './connect-attempt.js';

export function handshake(ctx: DiagnosisContext, out: FindingParts[]): void {
  const o = ctx.orig.ev;
  const r = ctx.resp.ev;
  if (r.synAcks === 0) return;
  const overflowFrame = r.rare?.synAckAfterAckFrame ?? 0;
  if (overflowFrame > 0) {
    out.push({
      kind: 'accept-overflow',
      by: 'resp',
      reason: 'NONE',
      confidence: 0.7,
      frames: [r.synAckFirstFrame, o.firstAckFrame, overflowFrame],
      time: ctx.c.startTime,
      state: 'TCP_SYN_RECV',
      candidates: [],
      calls: { orig: [{ call: 'send', errno: null, note: 'succeeds; no reply yet' }], resp: [{ call: 'accept', errno: null, note: 'not yet returned' }] },
      summary:
        `${ctx.resp.Label} sent its SYN-ACK again (frame ${overflowFrame}) after ${ctx.orig.label} had acknowledged it (frame ${o.firstAckFrame}): its kernel dropped that ACK — the listener's accept queue was full.`,
      advice: 'The server does not accept() fast enough or its backlog is small (somaxconn); see nstat TcpExtListenOverflows, ss -ltn.',
      rstText: null,
    });
    return;
  }
  // The client completed the handshake and sent, but its segments were retransmitted before the
  // server said anything: a listener whose accept queue is full drops them (tcp_abort_on_overflow = 0).
  const firstRexmit = o.rare?.rexmitFirstFrame ?? 0;
  if (o.firstAckFrame > r.synAckFirstFrame && firstRexmit > 0 && (r.firstAckFrame === 0 || r.firstAckFrame > firstRexmit) && r.rstCount === 0) {
    out.push({
      kind: 'accept-overflow',
      by: 'resp',
      reason: 'NONE',
      confidence: 0.55,
      frames: [r.synAckFirstFrame, o.firstAckFrame, firstRexmit, r.firstAckFrame],
      time: ctx.c.startTime,
      state: 'TCP_SYN_RECV',
      candidates: [],
      calls: { orig: [{ call: 'send', errno: null, note: 'succeeds; the reply is late' }], resp: [{ call: 'accept', errno: null, note: 'returns it late' }] },
      summary:
        `${ctx.orig.Label} completed the handshake and sent (frame ${o.firstAckFrame}), but had to retransmit (frame ${firstRexmit}) before ${ctx.resp.who} answered anything` +
        `${r.firstAckFrame > 0 ? ` (frame ${r.firstAckFrame})` : ''}: its listener ignored the segments while its accept queue was full (or they were lost).`,
      advice: 'The server does not accept() fast enough or its backlog is small (somaxconn); see nstat TcpExtListenOverflows, ss -ltn.',
      rstText: null,
    });
    return;
  }
  if (o.firstAckFrame > 0 || o.dataSegs > 0 || o.fins > 0 || o.rstCount > 0) return;
  // Only SYN-ACKs from the server: anything else (data, FIN) means the capture misses the client's direction.
  if (r.segments !== r.synAcks + r.rstCount || o.syns === 0) return;
  const clientRetried = o.synLastFrame > r.synAckFirstFrame;
  out.push({
    kind: 'handshake-incomplete',
    by: clientRetried ? 'network' : 'orig',
    reason: 'NONE',
    confidence: clientRetried ? 0.8 : r.synAcks > 1 ? 0.7 : 0.5,
    frames: [o.synFirstFrame, r.synAckFirstFrame, r.synAckLastFrame, clientRetried ? o.synLastFrame : 0],
    time: epochOf(ctx, 0),
    state: 'TCP_SYN_RECV',
    candidates: [],
    calls: clientRetried ? { orig: connectTimedOut(timeoutText(null)), resp: [] } : { orig: [], resp: [] },
    summary: clientRetried
      ? `${ctx.resp.Label} sent SYN-ACKs (frame ${r.synAckFirstFrame}${r.synAcks > 1 ? `, ${r.synAcks}×` : ''}) but ${ctx.orig.label} kept sending SYNs (to frame ${o.synLastFrame}): ` +
        `the SYN-ACKs never reached it (lost on the way back); its connect() ends in ETIMEDOUT.`
      : `${ctx.resp.Label} answered ${ctx.orig.label}'s SYN (SYN-ACK at ${clock(epochOf(ctx, r.synAckLastMs))}${r.synAcks > 1 ? `, ${r.synAcks}×` : ''}) but the handshake never completed: ` +
        `the client is gone, the SYN-ACK was lost, or the SYN was spoofed (SYN flood). Half-open on the server; no application sees it.`,
    advice: clientRetried ? 'Check the return path to the client (routes, NAT, one-way firewalls).' : 'Many of these from varied sources: a SYN flood (tcp_syncookies). Otherwise check the path back to the client.',
    rstText: null,
  });
}
