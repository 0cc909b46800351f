/**
 * `trace --count`: events summed per event and reason over the run, like the seed's libbpf
 * program that counts system calls over a period and prints a table at the end.
 */
import type { KernelEvent } from './trace-events.js';

export interface ReasonCount {
  event: string;
  /** Reason (sk_rst_reason / skb_drop_reason), errno name, or new state, depending on the event. */
  key: string;
  count: number;
  /** For drops: the most frequent dropping function. */
  topLocation?: string;
}

export class ReasonCounter {
  private readonly counts = new Map<string, { event: string; key: string; count: number; locations: Map<string, number> }>();

  static keyOf(e: KernelEvent): string {
    if (e.reason !== null) return e.reason;
    if (e.errnoName !== undefined) return e.errnoName;
    if (e.event === 'inet_sock_set_state') return `${e.oldState ?? '?'}->${e.state ?? '?'}`;
    if (e.state !== null) return e.state;
    return '-';
  }

  add(e: KernelEvent): void {
    const key = ReasonCounter.keyOf(e);
    const id = `${e.event}\0${key}`;
    let c = this.counts.get(id);
    if (c === undefined) this.counts.set(id, (c = { event: e.event, key, count: 0, locations: new Map() }));
    c.count++;
    if (e.location !== undefined) {
      const fn = e.location.replace(/\+0x.*$/, '');
      c.locations.set(fn, (c.locations.get(fn) ?? 0) + 1);
    }
  }

  /** Rows, most frequent first. */
  rows(): ReasonCount[] {
    return [...this.counts.values()]
      .map((c) => {
        const row: ReasonCount = { event: c.event, key: c.key, count: c.count };
        const top = [...c.locations].sort((a, b) => b[1] - a[1])[0];
        if (top !== undefined) row.topLocation = top[0];
        return row;
      })
      .sort((a, b) => b.count - a.count || a.event.localeCompare(b.event) || a.key.localeCompare(b.key));
  }
}
