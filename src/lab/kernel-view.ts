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
    this.events.push(e);
    this.waiters = this.waiters.filter((w) => {
      if (!w.match(e)) return true;
      w.resolve(e);
      return false;
    });
  }

  async start(): Promise<void> {
    await this.tracer.start();
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

  get instancePath(): string | null {
    return this.tracer.instancePath;
  }
}
