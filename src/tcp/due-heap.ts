/**
 * A binary min-heap of (due time, connection): the sweep finds connections whose timers have
 * expired without scanning the whole flow table. Entries go stale when a connection's due time
 * moves; the sweep recognises them by `Connection.scheduledAt` and skips them.
 */
import type { Connection } from './connection.js';

export class DueHeap {
  private due: number[] = [];
  private conns: Connection[] = [];

  get size(): number {
    return this.due.length;
  }

  /** Earliest due time, or Infinity when empty. */
  peek(): number {
    return this.due.length > 0 ? this.due[0]! : Infinity;
  }

  push(due: number, c: Connection): void {
    const d = this.due;
    const cs = this.conns;
    let i = d.length;
    d.push(due);
    cs.push(c);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (d[parent]! <= due) break;
      d[i] = d[parent]!;
      cs[i] = cs[parent]!;
      i = parent;
    }
    d[i] = due;
    cs[i] = c;
  }

  /** Removes the earliest entry and returns its connection (the caller read its due time with peek()). */
  pop(): Connection {
    const d = this.due;
    const cs = this.conns;
    const top = cs[0]!;
    const lastDue = d.pop()!;
    const lastConn = cs.pop()!;
    const n = d.length;
    if (n > 0) {
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= n) break;
        const r = l + 1;
        const m = r < n && d[r]! < d[l]! ? r : l;
        if (d[m]! >= lastDue) break;
        d[i] = d[m]!;
        cs[i] = cs[m]!;
        i = m;
      }
      d[i] = lastDue;
      cs[i] = lastConn;
    }
    return top;
  }
}
