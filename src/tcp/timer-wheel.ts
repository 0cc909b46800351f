/**
 * Connections bucketed by the whole second of their due time: the tracker finds connections
 * whose timers may have expired without scanning the flow table, in O(1) per scheduling.
 *
 * Entries go stale when a connection is rescheduled or ends; `Connection.scheduledAt` tells the
 * live entry from stale ones. A bucket is handed out once network time has passed its whole
 * second, so an eviction can come up to a second late — harmless, since the moment a
 * connection ended is computed exactly (removalTime) and later packets check it themselves.
 */
import type { Connection } from './connection.js';

/** Gaps in network time longer than this are walked by bucket key instead of second by second. */
const MAX_SEQUENTIAL_SECONDS = 4096;

export class TimerWheel {
  private readonly buckets = new Map<number, Connection[]>();
  /** Every bucket below this second has been handed out. */
  private cursor = -Infinity;

  /** The earliest network time at which expire() can hand out anything new. */
  get nextDue(): number {
    return this.cursor + 1;
  }

  schedule(c: Connection, due: number): void {
    c.scheduledAt = due;
    const second = Math.floor(due);
    const b = this.buckets.get(second);
    if (b === undefined) this.buckets.set(second, [c]);
    else b.push(c);
    if (this.cursor === -Infinity) this.cursor = second;
  }

  /** Hands every live entry of the buckets that `now` has passed to `visit`. */
  expire(now: number, visit: (c: Connection) => void): void {
    const last = Math.floor(now); // buckets < last are fully in the past
    if (last <= this.cursor) return;
    const visitBucket = (second: number): void => {
      const b = this.buckets.get(second);
      if (b === undefined) return;
      this.buckets.delete(second);
      for (const c of b) {
        if (!c.finished && Math.floor(c.scheduledAt) === second) visit(c);
      }
    };
    if (last - this.cursor <= MAX_SEQUENTIAL_SECONDS) {
      for (let s = this.cursor; s < last; s++) visitBucket(s);
    } else {
      for (const s of [...this.buckets.keys()].filter((k) => k < last).sort((a, b) => a - b)) visitBucket(s);
    }
    this.cursor = last;
  }
}
