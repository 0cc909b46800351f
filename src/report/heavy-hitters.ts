/**
 * The most frequent keys of a stream in bounded memory: Metwally, Agrawal and El Abbadi's
 * Space-Saving (2005). It keeps `capacity` counters; a key that is not counted takes over the
 * smallest counter and inherits its count as its possible overcount (`error`). Every key that
 * occurs more than total/capacity times is guaranteed to hold a counter, and a counter never
 * undercounts: count − error ≤ true count ≤ count.
 *
 * The text report uses it to say where thousands of findings of one kind point (which services
 * refused, which reset): a capture of a scan has a million distinct endpoints, and the report's
 * memory must not follow them.
 */

export interface HitCount {
  key: string;
  count: number;
  /** How much `count` may exceed the true count (0: exact). */
  error: number;
}

export class HeavyHitters {
  private readonly counters = new Map<string, HitCount>();
  private readonly capacity: number;
  /** Whether a counter was ever taken over: then the number of distinct keys is unknown. */
  private overflowed = false;

  constructor(capacity: number) {
    if (!(capacity >= 1)) throw new RangeError(`HeavyHitters needs room for at least one counter, not ${capacity}`);
    this.capacity = capacity;
  }

  add(key: string): void {
    const hit = this.counters.get(key);
    if (hit !== undefined) {
      hit.count++;
      return;
    }
    if (this.counters.size < this.capacity) {
      this.counters.set(key, { key, count: 1, error: 0 });
      return;
    }
    // A linear scan for the smallest counter: it runs only for keys not counted, over a few dozen counters.
    let least: HitCount | undefined;
    for (const c of this.counters.values()) if (least === undefined || c.count < least.count) least = c;
    this.counters.delete(least!.key);
    this.counters.set(key, { key, count: least!.count + 1, error: least!.count });
    this.overflowed = true;
  }

  /** The `n` largest counters, largest first (ties by key, so the report does not depend on arrival order). */
  top(n: number): HitCount[] {
    return [...this.counters.values()].sort((a, b) => b.count - a.count || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0)).slice(0, n);
  }

  /** How many distinct keys were added; null once there were more than the counters could hold. */
  get distinct(): number | null {
    return this.overflowed ? null : this.counters.size;
  }
}
