/**
 * A binary min-heap over items whose key can change while they sit at the top: the generator
 * keeps every open connection here, keyed by the time of its next packet, and after emitting
 * a packet it re-keys the top in place instead of popping and pushing.
 */
export class MinHeap<T> {
  private readonly items: T[] = [];

  constructor(private readonly key: (item: T) => number) {}

  get size(): number {
    return this.items.length;
  }

  peek(): T | undefined {
    return this.items[0];
  }

  push(item: T): void {
    const items = this.items;
    items.push(item);
    let i = items.length - 1;
    const k = this.key(item);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (this.key(items[parent]!) <= k) break;
      items[i] = items[parent]!;
      i = parent;
    }
    items[i] = item;
  }

  /** Removes the top item. */
  pop(): void {
    const last = this.items.pop();
    if (last !== undefined && this.items.length > 0) {
      this.items[0] = last;
      this.siftDown();
    }
  }

  /** Restores the heap order after the top item's key has grown. */
  topKeyIncreased(): void {
    this.siftDown();
  }

  private siftDown(): void {
    const items = this.items;
    const n = items.length;
    const item = items[0]!;
    const k = this.key(item);
    let i = 0;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= n) break;
      const right = left + 1;
      let child = left;
      let ck = this.key(items[left]!);
      if (right < n) {
        const rk = this.key(items[right]!);
        if (rk < ck) {
          child = right;
          ck = rk;
        }
      }
      if (k <= ck) break;
      items[i] = items[child]!;
      i = child;
    }
    items[i] = item;
  }
}
