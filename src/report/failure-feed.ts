/**
 * What `analyze --follow` prints as connections end: each failure, but not a flood. A port scan
 * or a dead backend ends thousands of connections of one kind a second; after FEED_EXAMPLES of a
 * kind in FEED_WINDOW_S seconds the rest of that window are counted, and one line says how many
 * were left out once the window is over. The report at the end tallies them all.
 *
 * The windows run on the capture's clock as records come out (`now`), not on the failures' own
 * times: a record comes out seconds after its failure (Zeek's timers), so windows by failure
 * time would close before their late records arrived and let those through one by one.
 */
import type { ConnectionRecord } from '../analyze/records.js';
import { FAILURE_KINDS } from '../diagnose/knowledge.js';
import { renderFailureBlock } from './text.js';

/** Failures of one kind shown per window. */
export const FEED_EXAMPLES = 3;
/** The window, in seconds of the capture's clock (packet time, moved on by a followed capture's quiet moments). */
export const FEED_WINDOW_S = 10;

interface KindWindow {
  start: number;
  shown: number;
  held: number;
}

export class FailureFeed {
  private readonly windows = new Map<string, KindWindow>();

  /** The text to print for a connection that ended by capture time `now` (blocks and "left out" lines), or null. */
  add(r: ConnectionRecord, now: number): string | null {
    const out: string[] = [];
    for (const f of r.findings) {
      if (!FAILURE_KINDS.has(f.kind)) continue;
      let w = this.windows.get(f.kind);
      if (w === undefined || now >= w.start + FEED_WINDOW_S) {
        if (w !== undefined && w.held > 0) out.push(heldLine(f.kind, w));
        w = { start: now, shown: 0, held: 0 };
        this.windows.set(f.kind, w);
      }
      if (w.shown < FEED_EXAMPLES) {
        w.shown++;
        out.push(renderFailureBlock(r, f));
      } else {
        w.held++;
      }
    }
    return out.length > 0 ? out.join('\n\n') : null;
  }

  /**
   * The counts of windows that are over by capture time `now`: a burst is summed up once its 10 s
   * have passed, not only when the next failure of its kind comes (which on a live link may be never).
   */
  expired(now: number | null): string | null {
    if (now === null) return null;
    const out: string[] = [];
    for (const [kind, w] of this.windows) {
      if (now < w.start + FEED_WINDOW_S) continue;
      if (w.held > 0) out.push(heldLine(kind, w));
      this.windows.delete(kind);
    }
    return out.length > 0 ? out.join('\n') : null;
  }

  /** At the end: the counts still held back. */
  finish(): string | null {
    const out = [...this.windows].filter(([, w]) => w.held > 0).map(([kind, w]) => heldLine(kind, w));
    this.windows.clear();
    return out.length > 0 ? out.join('\n') : null;
  }
}

function heldLine(kind: string, w: KindWindow): string {
  return `… ${w.held} more ${kind} finding${w.held === 1 ? '' : 's'} in the same ${FEED_WINDOW_S} s (not shown one by one; the report at the end tallies them)`;
}
