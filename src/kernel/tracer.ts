/**
 * Tracer: kernel TCP events from a private tracefs instance, as a library.
 *
 *   const tracer = new Tracer({ groups: ['resets', 'drops', 'errors'], filter: { ports: [8080] } });
 *   await tracer.start();            // resolves once the instance is live: start traffic after this
 *   for await (const e of tracer) …  // or pass onEvent; stop() ends the iteration
 *   const stats = await tracer.stop();
 *
 * start() finds (or mounts) tracefs, reads each event's format file, creates the instance,
 * enables the events with kernel-side filters where the fields allow, and begins reading
 * trace_pipe. stop() reads what is left, closes the pipe and removes the instance; so does an
 * error inside the reader, and so does process exit (tracefs.ts).
 */
import { TsleuthError } from '../errors.js';
import { type EventFormat, hasField, readEventFormat, resolveSymbolicKeys } from './event-format.js';
import { EventMatcher, findNetns, type NetnsRef, readNetnsAddresses, type TraceFilter } from './trace-filter.js';
import { type KernelEvent, type KernelEventName, LineSplitter, TraceLineParser } from './trace-events.js';
import { findTracefs, INSTANCE_PREFIX, TraceInstance, type TracePipe } from './tracefs.js';

export type EventGroup = 'resets' | 'drops' | 'errors' | 'retransmits' | 'states' | 'sockets';

export interface EventSpec {
  system: string;
  event: KernelEventName;
  /** Fields the event must have for tcpsleuth to read it; missing ones give a note. */
  expects: { field: string; since: string; meaning: string }[];
}

/** The events of each group, with the fields tcpsleuth reads and the kernel that brought them. */
export const EVENT_GROUPS: Readonly<Record<EventGroup, readonly EventSpec[]>> = {
  resets: [
    {
      system: 'tcp',
      event: 'tcp_send_reset',
      expects: [
        { field: 'reason', since: 'Linux 6.10', meaning: 'why the RST was sent (enum sk_rst_reason)' },
        { field: 'state', since: 'Linux 4.16', meaning: 'the TCP state of the socket' },
      ],
    },
    { system: 'tcp', event: 'tcp_receive_reset', expects: [] },
  ],
  drops: [
    {
      system: 'skb',
      event: 'kfree_skb',
      expects: [
        { field: 'reason', since: 'Linux 5.17', meaning: 'why the packet was dropped (enum skb_drop_reason)' },
        { field: 'rx_sk', since: 'Linux 6.11', meaning: 'the receiving socket' },
      ],
    },
  ],
  errors: [{ system: 'sock', event: 'inet_sk_error_report', expects: [] }],
  retransmits: [
    { system: 'tcp', event: 'tcp_retransmit_skb', expects: [] },
    { system: 'tcp', event: 'tcp_retransmit_synack', expects: [] },
  ],
  states: [{ system: 'sock', event: 'inet_sock_set_state', expects: [] }],
  sockets: [{ system: 'syscalls', event: 'sys_enter_socket', expects: [] }],
};

/** One note per field tcpsleuth reads that this kernel's event lacks. */
export function missingFieldNotes(spec: EventSpec, fmt: EventFormat): string[] {
  return spec.expects
    .filter((x) => !hasField(fmt, x.field))
    .map((x) => `${spec.system}:${spec.event} has no "${x.field}" field on this kernel (${x.meaning}; added in ${x.since}): it is shown as "-"`);
}

export const DEFAULT_GROUPS: readonly EventGroup[] = ['resets', 'drops', 'errors'];

const EVENT_INTRODUCED: Partial<Record<KernelEventName, string>> = {
  tcp_send_reset: 'Linux 4.15',
  tcp_receive_reset: 'Linux 4.15',
  tcp_retransmit_synack: 'Linux 4.15',
  inet_sock_set_state: 'Linux 4.16',
  inet_sk_error_report: 'Linux 5.13',
  kfree_skb: 'Linux 2.6.33',
  sys_enter_socket: 'a kernel with CONFIG_FTRACE_SYSCALLS',
};

export interface TracerOptions {
  groups?: readonly EventGroup[];
  filter?: TraceFilter;
  /** Record the kernel stack of every event (the instance's stacktrace option). */
  stack?: boolean;
  /** Keep drops of non-IP packets too (ARP, ...); by default kfree_skb is filtered to IPv4/IPv6 in the kernel. */
  allDrops?: boolean;
  /** Per-CPU ring buffer size of the instance, KiB (default 4096). */
  bufferSizeKb?: number;
  /** tracefs root; found (and mounted if needed) when omitted. */
  tracefsRoot?: string;
  /** Keep inet_sk_error_report events with error 0 (the kernel reports again after the error was consumed); default false. */
  keepZeroErrors?: boolean;
  /** Instance name prefix (default "tsl"). */
  instancePrefix?: string;
  /** Events kept for the async iterator before new ones are counted as `queueOverflow` (default 100000). */
  maxQueue?: number;
  onEvent?: (event: KernelEvent) => void;
  /** The kernel overwrote events before they were read: `count` lost on `cpu`. */
  onLost?: (count: number, cpu: number) => void;
  /** A remark about this kernel (a missing event or field). */
  onNote?: (note: string) => void;
}

export interface TraceStats {
  /** Events that passed the filter. */
  events: number;
  /** Events read but filtered out. */
  filtered: number;
  /** Events the kernel reported lost ([LOST N EVENTS]). */
  lost: number;
  /** Events dropped because the async iterator's consumer did not keep up. */
  queueOverflow: number;
  /** Lines of trace_pipe read. */
  lines: number;
  /** Per event name, the number of events that passed the filter. */
  perEvent: Record<string, number>;
  startedAt: number;
  stoppedAt: number | null;
}

/** Remembers the tuple of recent resets so the matching kfree_skb (same skb) gets one too. */
class TupleMemory {
  private readonly map = new Map<string, Pick<KernelEvent, 'family' | 'saddr' | 'sport' | 'daddr' | 'dport'>>();
  remember(key: string | undefined, t: Pick<KernelEvent, 'family' | 'saddr' | 'sport' | 'daddr' | 'dport'>): void {
    if (key === undefined || /^(0x)?0+$/.test(key)) return;
    if (this.map.size >= 4096) this.map.delete(this.map.keys().next().value as string);
    this.map.set(key, t);
  }
  get(key: string | undefined): Pick<KernelEvent, 'family' | 'saddr' | 'sport' | 'daddr' | 'dport'> | undefined {
    return key === undefined ? undefined : this.map.get(key);
  }
}

export class Tracer implements AsyncIterable<KernelEvent> {
  readonly options: TracerOptions;
  /** Remarks about this kernel gathered by start(). */
  readonly notes: string[] = [];
  /** Event names actually enabled. */
  readonly enabled: KernelEventName[] = [];
  /** Format files of the enabled events. */
  readonly formats = new Map<string, EventFormat>();
  readonly stats: TraceStats;
  private instance: TraceInstance | null = null;
  private pipe: TracePipe | null = null;
  private reader: Promise<void> | null = null;
  private readonly matcher: EventMatcher;
  private parser: TraceLineParser | null = null;
  private readonly splitter = new LineSplitter();
  private readonly skbTuples = new TupleMemory();
  private readonly skTuples = new TupleMemory();
  private pending: KernelEvent | null = null;
  private inStack = false;
  private queue: KernelEvent[] = [];
  private waiter: (() => void) | null = null;
  private done = false;
  private failure: unknown = null;
  private stopping: Promise<TraceStats> | null = null;
  private starting: Promise<void> | null = null;
  private nsScanner: NodeJS.Timeout | null = null;
  private addrRefresher: NodeJS.Timeout | null = null;

  constructor(options: TracerOptions = {}) {
    this.options = options;
    this.matcher = new EventMatcher(options.filter);
    this.stats = { events: 0, filtered: 0, lost: 0, queueOverflow: 0, lines: 0, perEvent: {}, startedAt: 0, stoppedAt: null };
  }

  /** The instance directory while tracing (null before start and after stop). */
  get instancePath(): string | null {
    return this.instance?.path ?? null;
  }

  get live(): boolean {
    return this.reader !== null && !this.done;
  }

  private note(text: string): void {
    this.notes.push(text);
    this.options.onNote?.(text);
  }

  /**
   * Creates the instance and starts reading; resolves when events are being recorded. A stop()
   * that comes while start() is still setting up waits for it, then removes the instance.
   */
  start(): Promise<void> {
    if (this.starting !== null) throw new Error('Tracer.start() called twice');
    this.starting = this.startInner();
    return this.starting;
  }

  private async startInner(): Promise<void> {
    const root = this.options.tracefsRoot ?? (await findTracefs());
    const groups = this.options.groups ?? DEFAULT_GROUPS;
    const specs: EventSpec[] = [];
    for (const g of groups) specs.push(...EVENT_GROUPS[g]);
    for (const spec of specs) {
      const fmt = await readEventFormat(root, spec.system, spec.event);
      if (fmt === null) {
        const since = EVENT_INTRODUCED[spec.event];
        this.note(`${spec.system}:${spec.event} does not exist on this kernel${since ? ` (it came with ${since})` : ''}; its events are not traced`);
        continue;
      }
      for (const n of missingFieldNotes(spec, fmt)) this.note(n);
      this.formats.set(spec.event, fmt);
    }
    resolveSymbolicKeys(this.formats.values());
    if (this.formats.size === 0) {
      throw new TsleuthError('TSL_ERR_ENV', 'none of the requested kernel events exists on this kernel (see the notes above); use a kernel with TCP tracepoints (Linux 4.16 or later)');
    }
    checkReasons(this.options.filter?.reasons, this.formats);
    const netnsRef = await this.learnNetnsAddresses();
    // One second of wall clock against the monotonic clock: trace timestamps become epoch times.
    const monoNow = Number(process.hrtime.bigint()) / 1e9;
    const epochOffset = Date.now() / 1000 - monoNow;
    this.instance = await TraceInstance.create(root, this.options.instancePrefix ?? INSTANCE_PREFIX);
    try {
      const inst = this.instance;
      await inst.write('tracing_on', '0');
      const monoClock = await inst.setClock('mono');
      if (!monoClock) this.note('the "mono" trace clock is not available: event times are the trace clock\'s own and may drift from wall-clock time');
      this.parser = new TraceLineParser(this.formats, monoClock ? epochOffset : 0);
      await inst.setBufferSizeKb(this.options.bufferSizeKb ?? 4096);
      if (!(await inst.setOption('record-tgid', true))) this.note('this kernel cannot record thread-group ids: pid is the thread id');
      await inst.setOption('overwrite', true);
      if (this.options.stack === true && !(await inst.setOption('stacktrace', true))) this.note('this kernel has no stacktrace option: no stacks');
      for (const [name, fmt] of this.formats) {
        const spec = specs.find((s) => s.event === name)!;
        await inst.enableEvent(spec.system, name, this.kernelFilter(fmt));
        this.enabled.push(name as KernelEventName);
      }
      this.pipe = inst.openPipe({ bufferSize: 1 << 20 });
      await inst.write('tracing_on', '1');
    } catch (e) {
      await this.instance.remove().catch(() => undefined);
      this.instance = null;
      throw e;
    }
    this.stats.startedAt = Date.now() / 1000;
    if (this.matcher.filtersNetns) {
      // Short-lived processes exit before their events are read: learn every task's namespace as it runs.
      this.matcher.scanAll();
      this.nsScanner = setInterval(() => this.matcher.scanAll(), 50);
      this.nsScanner.unref();
      if (netnsRef !== null) {
        // Addresses configured after the start count from the next reading on.
        let reading = false;
        this.addrRefresher = setInterval(() => {
          if (reading) return;
          reading = true;
          void readNetnsAddresses(netnsRef)
            .then((a) => {
              if (a !== null && !this.done) this.matcher.setNetnsAddresses(a);
            })
            .finally(() => {
              reading = false;
            });
        }, 2000);
        this.addrRefresher.unref();
      }
    }
    const pipe = this.pipe;
    this.reader = pipe
      .run(
        (buf, n) => this.onData(buf, n),
        () => this.flushPending(),
      )
      .catch((e: unknown) => {
        this.failure = e;
      })
      .finally(() => {
        void this.stop();
      });
  }

  /**
   * With a namespace filter: reads the namespace's addresses, by which events raised in interrupt
   * context are attributed (trace-filter.ts). Returns the namespace to read them again from.
   */
  private async learnNetnsAddresses(): Promise<NetnsRef | null> {
    const f = this.options.filter;
    if (f?.netnsInode === undefined) return null;
    const ref = f.netnsPath !== undefined ? { inode: f.netnsInode, path: f.netnsPath } : await findNetns(f.netnsInode);
    const addrs = ref === null ? null : await readNetnsAddresses(ref);
    if (addrs === null) {
      this.note('the addresses of the network namespace could not be read ("nsenter" and "ip" are needed): events are attributed by the namespace of the task that was running, which for events raised in interrupt context (resets without a socket, drops) may be another namespace\'s');
    }
    this.matcher.setNetnsAddresses(addrs);
    return addrs === null ? null : ref;
  }

  /** Kernel-side filter for an event: only what cannot drop an event the user-space filter keeps. */
  private kernelFilter(fmt: EventFormat): string | undefined {
    const parts: string[] = [];
    if (hasField(fmt, 'protocol') && (fmt.name === 'inet_sock_set_state' || fmt.name === 'inet_sk_error_report')) parts.push('protocol == 6');
    if (fmt.name === 'kfree_skb' && this.options.allDrops !== true && hasField(fmt, 'protocol')) parts.push('(protocol == 2048 || protocol == 34525)');
    if (fmt.name === 'sys_enter_socket' && hasField(fmt, 'family')) parts.push('(family == 2 || family == 10)');
    const ports = this.options.filter?.ports;
    if (ports && ports.length > 0 && hasField(fmt, 'sport') && hasField(fmt, 'dport')) {
      parts.push(`(${ports.map((p) => `sport == ${p} || dport == ${p}`).join(' || ')})`);
    }
    return parts.length === 0 ? undefined : parts.join(' && ');
  }

  private onData(buf: Buffer, n: number): void {
    this.splitter.push(buf, n, (line) => this.onLine(line));
  }

  private onLine(line: string): void {
    this.stats.lines++;
    const parsed = this.parser!.parse(line);
    switch (parsed.kind) {
      case 'event':
        this.flushPending();
        if (this.options.stack === true) this.pending = parsed.event;
        else this.deliver(parsed.event);
        this.inStack = false;
        return;
      case 'stack':
        this.inStack = this.pending !== null;
        if (this.pending !== null) this.pending.stack = [];
        return;
      case 'frame':
        if (this.inStack && this.pending !== null) this.pending.stack!.push(parsed.frame);
        return;
      case 'lost':
        this.flushPending();
        this.stats.lost += parsed.count;
        this.options.onLost?.(parsed.count, parsed.cpu);
        return;
      default:
        return;
    }
  }

  private flushPending(): void {
    if (this.pending === null) return;
    const e = this.pending;
    this.pending = null;
    this.inStack = false;
    this.deliver(e);
  }

  private deliver(e: KernelEvent): void {
    // Tuple correlation: a reset remembers its tuple under its skb and socket; a drop of the same skb
    // (the segment that was answered with the RST) or for the same socket borrows it.
    if (e.event === 'tcp_send_reset' || e.event === 'tcp_retransmit_skb') {
      // The RST goes from saddr:sport to daddr:dport; the segment that caused it came the other way.
      if (e.event === 'tcp_send_reset') this.skbTuples.remember(e.skbaddr, { family: e.family, saddr: e.daddr, sport: e.dport, daddr: e.saddr, dport: e.sport });
      this.skTuples.remember(e.skaddr, e);
    } else if (e.event === 'kfree_skb' && e.saddr === null) {
      const t = this.skbTuples.get(e.skbaddr) ?? this.skTuples.get(e.rxSk);
      if (t !== undefined) {
        e.family = t.family;
        e.saddr = t.saddr;
        e.sport = t.sport;
        e.daddr = t.daddr;
        e.dport = t.dport;
        e.tupleInferred = true;
      }
    }
    if (!this.matcher.matches(e) || (e.event === 'inet_sk_error_report' && e.errno === 0 && this.options.keepZeroErrors !== true)) {
      this.stats.filtered++;
      return;
    }
    this.stats.events++;
    this.stats.perEvent[e.event] = (this.stats.perEvent[e.event] ?? 0) + 1;
    if (this.options.onEvent !== undefined) {
      this.options.onEvent(e);
      return;
    }
    if (this.queue.length >= (this.options.maxQueue ?? 100_000)) {
      this.stats.queueOverflow++;
      return;
    }
    this.queue.push(e);
    this.waiter?.();
  }

  /** Reads what is left, closes trace_pipe and removes the instance. Safe to call more than once. */
  stop(): Promise<TraceStats> {
    if (this.stopping !== null) return this.stopping;
    this.stopping = (async () => {
      // A stop during start(): let the set-up finish (or fail), so the instance it makes is removed.
      await this.starting?.catch(() => undefined);
      try {
        if (this.pipe !== null && this.pipe.isOpen) {
          try {
            this.pipe.drain((buf, n) => this.onData(buf, n));
          } catch {
            // the instance may be half gone; what was read is kept
          }
          this.flushPending();
        }
        this.pipe?.close();
        if (this.nsScanner !== null) clearInterval(this.nsScanner);
        if (this.addrRefresher !== null) clearInterval(this.addrRefresher);
        await this.reader?.catch(() => undefined);
        await this.instance?.remove();
      } finally {
        this.stats.stoppedAt = Date.now() / 1000;
        this.done = true;
        this.waiter?.();
      }
      if (this.failure !== null) throw this.failure;
      return this.stats;
    })();
    return this.stopping;
  }

  /** Resolves when the tracer stops (by stop(), or by an error in the reader, which it rethrows). */
  async finished(): Promise<TraceStats> {
    await this.reader;
    return this.stop();
  }

  async *[Symbol.asyncIterator](): AsyncIterator<KernelEvent> {
    for (;;) {
      if (this.queue.length > 0) {
        const batch = this.queue;
        this.queue = [];
        for (const e of batch) yield e;
        continue;
      }
      if (this.done) break;
      await new Promise<void>((resolve) => {
        this.waiter = resolve;
      });
      this.waiter = null;
    }
    if (this.failure !== null) throw this.failure;
  }
}

/**
 * Checks `--reason` names against the reason tables of the events being traced, as this kernel's
 * format files give them (enum sk_rst_reason, enum skb_drop_reason): a misspelt name would
 * otherwise filter out every event and the trace would run empty without saying why.
 */
export function checkReasons(reasons: readonly string[] | undefined, formats: ReadonlyMap<string, EventFormat>): void {
  if (reasons === undefined || reasons.length === 0) return;
  const tables = new Map<string, string[]>();
  for (const fmt of formats.values()) {
    const t = fmt.symbols.get('reason');
    if (t === undefined || t.byName.size === 0) continue;
    const type = fmt.fields.find((f) => f.name === 'reason')?.type ?? `${fmt.name} reason`;
    const list = tables.get(type.replace(/^enum\s+/, '')) ?? [];
    for (const n of t.byName.keys()) if (!list.includes(n)) list.push(n);
    tables.set(type.replace(/^enum\s+/, ''), list);
  }
  if (tables.size === 0) {
    throw new TsleuthError('TSL_ERR_USAGE', `--reason: none of the traced events carries a reason on this kernel (reasons come with tcp_send_reset in --events resets, Linux 6.10, and kfree_skb in --events drops, Linux 5.17)`);
  }
  const known = new Set([...tables.values()].flat());
  const bad = reasons.filter((r) => !known.has(r.trim().toUpperCase()));
  if (bad.length === 0) return;
  const valid = [...tables].map(([name, list]) => `${name}: ${list.join(', ')}`).join('; ');
  throw new TsleuthError('TSL_ERR_USAGE', `--reason ${JSON.stringify(bad[0])} is not a reason of the traced events on this kernel (from their format files); valid names — ${valid}`);
}
