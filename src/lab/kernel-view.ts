/**
 * The kernel view: a private tracefs instance (src/kernel/tracer.ts) recording RSTs with their
 * reasons, drops, socket errors, state changes and retransmissions, kept to one scenario.
 *
 * Which events belong to the scenario: those whose tuple has one of the scenario's addresses
 * (each run draws its own addresses, so no other traffic on the machine matches), and, for
 * events without a tuple (most kfree_skb drops), those fired while a task of the scenario's
 * namespace was running. Timer-driven events (keepalive probes, retransmissions) fire in
 * whatever task the CPU was running, which is why the tuple, not the task, is the main key.
 */
import { EventMatcher } from '../kernel/trace-filter.js';
import type { KernelEvent } from '../kernel/trace-events.js';
import { Tracer, type EventGroup } from '../kernel/tracer.js';

export const LAB_EVENT_GROUPS: readonly EventGroup[] = ['resets', 'drops', 'errors', 'states', 'retransmits'];
export const LAB_INSTANCE_PREFIX = 'tsllab';

export class KernelView {
  readonly events: KernelEvent[] = [];
  readonly notes: string[] = [];
  lost = 0;
  private monoToEpoch: number | null = null;
  private readonly tracer: Tracer;
  private readonly addrs: Set<string>;
  private readonly matcher: EventMatcher;
  private waiters: { match: (e: KernelEvent) => boolean; resolve: (e: KernelEvent) => void }[] = [];

  constructor(addresses: string[], netnsInode: number) {
    this.addrs = new Set(addresses);
    this.matcher = new EventMatcher({ netnsInode });
    this.tracer = new Tracer({
      groups: LAB_EVENT_GROUPS,
      instancePrefix: LAB_INSTANCE_PREFIX,
      bufferSizeKb: 2048,
      onEvent: (e) => this.onEvent(e),
      onLost: (n) => {
        this.lost += n;
      },
      onNote: (n) => this.notes.push(n),
    });
  }

  private mine(e: KernelEvent): boolean {
    if (e.saddr !== null || e.daddr !== null) return (e.saddr !== null && this.addrs.has(e.saddr)) || (e.daddr !== null && this.addrs.has(e.daddr));
    return this.matcher.matches(e);
  }

  private onEvent(e: KernelEvent): void {
    if (!this.mine(e)) return;
    // Re-stamp with a sub-millisecond offset between CLOCK_MONOTONIC (the "mono" trace clock) and
    // the wall clock, so kernel events line up with tcpdump's and the programs' timestamps.
    if (this.monoToEpoch !== null) e.ts = e.traceTs + this.monoToEpoch;
    this.events.push(e);
    this.waiters = this.waiters.filter((w) => {
      if (!w.match(e)) return true;
      w.resolve(e);
      return false;
    });
  }

  async start(): Promise<void> {
    await this.tracer.start();
    if (this.tracer.notes.some((n) => n.includes('"mono" trace clock'))) return;
    // Both read back to back; performance.now() and hrtime are the same monotonic clock in Node.
    const mono = Number(process.hrtime.bigint()) / 1e9;
    const wall = (performance.timeOrigin + performance.now()) / 1000;
    this.monoToEpoch = wall - mono;
  }

  /** Resolves with the first matching event, past or future; rejects after `ms`. */
  waitFor(match: (e: KernelEvent) => boolean, ms: number, what: string): Promise<KernelEvent> {
    const seen = this.events.find(match);
    if (seen !== undefined) return Promise.resolve(seen);
    return new Promise<KernelEvent>((resolve, reject) => {
      const w = {
        match,
        resolve: (e: KernelEvent) => {
          clearTimeout(timer);
          resolve(e);
        },
      };
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((x) => x !== w);
        reject(new Error(`the kernel did not report ${what} within ${ms} ms`));
      }, ms);
      this.waiters.push(w);
    });
  }

  /** Reads what is left and removes the instance; events come in time order. */
  async stop(): Promise<void> {
    await this.tracer.stop();
    this.events.sort((a, b) => a.traceTs - b.traceTs);
  }

  /**
   * Drops untupled events that fired in an interrupt borrowed from one of the namespace's tasks
   * but are not near anything of the scenario: a softirq runs whatever packets are pending on that
   * CPU, other namespaces' included. A drop of one of the scenario's packets happens within
   * microseconds of that packet passing the capture point or of a tupled event of the same
   * segment; `windowS` allows for clock alignment.
   */
  keepNear(wireTimes: number[], windowS = 0.002): void {
    const anchors = [...wireTimes, ...this.events.filter((e) => e.saddr !== null).map((e) => e.ts)].sort((a, b) => a - b);
    const near = (t: number): boolean => {
      let lo = 0;
      let hi = anchors.length;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (anchors[mid]! < t) lo = mid + 1;
        else hi = mid;
      }
      return (lo < anchors.length && anchors[lo]! - t <= windowS) || (lo > 0 && t - anchors[lo - 1]! <= windowS);
    };
    const kept = this.events.filter((e) => e.saddr !== null || e.context === 'task' || near(e.ts));
    this.events.length = 0;
    this.events.push(...kept);
  }

  get instancePath(): string | null {
    return this.tracer.instancePath;
  }
}
