/**
 * Zero window: a receiver advertised a window of 0 — its receive buffer was full because its
 * application did not read. The sender must stop; it sends zero-window probes until the window
 * opens. On the sender, a blocking send() waits, a non-blocking one fails with EAGAIN.
 *
 * A zero window is not a stall by itself: a sender on a fast link (loopback, a LAN) fills a
 * receive buffer in microseconds, the receiver advertises 0, its application reads a moment later
 * and the kernel reopens the window with a window update — flow control doing its job. What makes
 * it a stall is time: Linux probes a shut window when its probe timer (the RTO, at least
 * TCP_RTO_MIN = 200 ms) fires. So a side whose zero windows lasted under 200 ms in all, with no
 * zero-window probe from the peer, cost its peer less than the shortest timer a Linux sender
 * would arm: momentary, no finding (the window-full observation and the statistics still show
 * them). Probes, or 200 ms or more shut, are a slow reader.
 *
 * Times in evidence are whole milliseconds since the connection began (msSince), so durations
 * are known to ±1 ms: a sub-millisecond episode reads 0 or 1 ms and is printed as such
 * ("under 1 ms", "about 1 ms"), never as "0 µs".
 */
import { NOBODY, sharedCalls } from '../errno.js';
import { type DiagnosisContext, type FindingParts, type Side, type SideView, epochOf, msText, peerOf } from '../context.js';

/** TCP_RTO_MIN: the earliest a Linux sender's probe timer fires into a shut window (ms). */
export const ZERO_WINDOW_STALL_MS = 200;

/** The zero-window episodes one side advertised, summed up (times in ms, as evidence keeps them). */
export interface ZeroWindowEpisodes {
  /** Zero-window advertisements and episodes (a run of them until the window reopened). */
  advertisements: number;
  episodes: number;
  /** Time shut, all episodes together and the longest one; an episode still open counts up to the end of the capture. */
  totalMs: number;
  longestMs: number;
  /** Still shut when the capture (or Zeek's timers) stopped watching. */
  openAtEnd: boolean;
  /** Zero-window probes the peer sent into the shut window. */
  probes: number;
  /** Shut under ZERO_WINDOW_STALL_MS in all, no probe: ordinary flow control, not a stall. */
  momentary: boolean;
}

/** The zero windows side `s` advertised, or null if none. */
export function zeroWindowEpisodes(ctx: DiagnosisContext, s: SideView): ZeroWindowEpisodes | null {
  const r = s.ev.rare;
  if (r === null || r.zeroWindows === 0) return null;
  const openAtEnd = r.zwStartMs >= 0;
  const lastOpenMs = openAtEnd ? Math.max(r.zwLastMs, Math.round((ctx.observedUntil - ctx.c.startTime) * 1000)) - r.zwStartMs : 0;
  const totalMs = r.zwTotalMs + lastOpenMs;
  const probes = peerOf(ctx, s).ev.rare?.zwProbes ?? 0;
  return {
    advertisements: r.zeroWindows,
    episodes: r.zwEpisodes,
    totalMs,
    longestMs: Math.max(r.zwLongestMs, lastOpenMs),
    openAtEnd,
    probes,
    momentary: probes === 0 && !openAtEnd && totalMs < ZERO_WINDOW_STALL_MS,
  };
}

const SEND_WAITS = sharedCalls({ call: 'send', errno: 'EAGAIN', note: 'non-blocking; blocking send() waits' });
/** The calls, by the side that advertised the zero window: its peer's sends wait (shared, frozen). */
const ZERO_WINDOW_CALLS: Record<Side, FindingParts['calls']> = {
  orig: { orig: NOBODY, resp: SEND_WAITS },
  resp: { orig: SEND_WAITS, resp: NOBODY },
};

function one(ctx: DiagnosisContext, s: SideView, out: FindingParts[]): void {
  const zw = zeroWindowEpisodes(ctx, s);
  if (zw === null || zw.momentary) return;
  const r = s.ev.rare!;
  const peer = peerOf(ctx, s);
  const { probes } = zw;
  // One long episode, or probes: the reader stopped. Only many short ones adding up: it set the pace.
  const stalled = probes > 0 || zw.longestMs >= ZERO_WINDOW_STALL_MS || zw.openAtEnd;
  const what = stalled
    ? `its application stopped reading — a slow reader, not a slow network.`
    : `each time for less than ${ZERO_WINDOW_STALL_MS} ms, but often enough to add up: its application read more slowly than ${peer.who} sent — the reader set the pace, not the network.`;
  out.push({
    kind: 'zero-window',
    by: s.side,
    reason: 'NONE',
    confidence: stalled ? 0.9 : 0.7,
    frames: [r.zwFirstFrame, r.zwLastFrame, r.zwReopenFrame],
    time: epochOf(ctx, r.zwFirstMs),
    state: null,
    candidates: [],
    calls: ZERO_WINDOW_CALLS[s.side],
    summary:
      `${s.Label} advertised a zero window from frame ${r.zwFirstFrame} (${zw.episodes}×, ${msText(zw.totalMs)} in all, longest ${msText(zw.longestMs)}${zw.openAtEnd ? ', still shut at the end' : ''}): ` +
      `${what} ${peer.Who} had to wait${probes > 0 ? ` (${probes} zero-window probe${probes === 1 ? '' : 's'})` : ''}.`,
    advice: `What blocks ${s.who}'s reader (a lock, slow disk or database, full downstream queue)? A bigger buffer only delays the stall.`,
    rstText: null,
  });
}

export function zeroWindow(ctx: DiagnosisContext, out: FindingParts[]): void {
  one(ctx, ctx.orig, out);
  one(ctx, ctx.resp, out);
}
