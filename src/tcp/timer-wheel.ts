/**
 * Connections bucketed by the whole second of their due time: the tracker finds connections
 * whose timers may have expired without scanning the flow table, in O(1) per scheduling.
 *
 * A connection sits in at most one bucket (Connection.wheelSecond/wheelIndex say where), and
 * leaves it when rescheduled or ended, so an ended connection is never kept alive by the wheel.
 * A bucket is handed out once network time has passed its whole second, so an eviction can
 * come up to a second late — harmless, since the moment a connection ended is computed exactly
 * (removalTime) and later packets check it themselves.
 */
import type { Connection } from './connection.js';

/** Gaps in network time longer than this are walked by bucket key instead of second by second. */
const MAX_SEQUENTIAL_SECONDS = 4096;

export class TimerWheel {
  private readonly buckets = new Map<number, Connection[]>();
  /** Every bucket below this second has been handed out. */
  private cursor = -Infinity;
  /**
   * The earliest network time at which expire() can hand out anything new (cursor + 1). A field,
   * not a getter: the tracker reads it for every packet, and a getter's number result is boxed.
   */
  nextDue = -Infinity;

  schedule(c: Connection, due: number): void {
    this.unschedule(c);
    c.scheduledAt = due;
    // A due time behind the cursor (network time went backwards: packets out of order, files that
    // overlap) goes into the cursor's own bucket, the next one handed out; a bucket below the
    // cursor would never be visited, and the connection would stay in memory until its next packet.
    const second = Math.max(Math.floor(due), this.cursor);
    let b = this.buckets.get(second);
    if (b === undefined) {
      b = [];
      this.buckets.set(second, b);
    }
    c.wheelSecond = second;
    c.wheelIndex = b.length;
    b.push(c);
    if (this.cursor === -Infinity) this.moveCursor(second);
  }

  /** Takes the connection out of its bucket (swap-remove), if it is in one. */
  unschedule(c: Connection): void {
    if (c.wheelIndex < 0) return;
    const b = this.buckets.get(c.wheelSecond)!;
    const last = b.pop()!;
    if (last !== c) {
      b[c.wheelIndex] = last;
      last.wheelIndex = c.wheelIndex;
    }
    if (b.length === 0) this.buckets.delete(c.wheelSecond);
    c.wheelIndex = -1;
    c.scheduledAt = Infinity;
  }

  /** Hands every connection of the buckets that `now` has passed to `visit` (which reschedules or ends it). */
  expire(now: number, visit: (c: Connection) => void): void {
    const last = Math.floor(now); // buckets < last are fully in the past
    if (last <= this.cursor) return;
    const visitBucket = (second: number): void => {
      const b = this.buckets.get(second);
      if (b === undefined) return;
      this.buckets.delete(second);
      for (const c of b) {
        c.wheelIndex = -1;
        c.scheduledAt = Infinity;
        visit(c);
      }
    };
    // Second by second only where seconds are still distinct numbers: beyond 2^53 (a pcapng
    // timestamp in units of whole seconds can be 2^64) `s++` leaves s as it was and never ends.
    if (last - this.cursor <= MAX_SEQUENTIAL_SECONDS && Number.isSafeInteger(this.cursor) && Number.isSafeInteger(last)) {
      for (let s = this.cursor; s < last; s++) visitBucket(s);
    } else {
      for (const s of [...this.buckets.keys()].filter((k) => k < last).sort((a, b) => a - b)) visitBucket(s);
    }
    this.moveCursor(last);
  }

  private moveCursor(second: number): void {
    this.cursor = second;
    this.nextDue = second + 1;
  }
}
