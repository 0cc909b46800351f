/**
 * `tcpsleuth trace`: flags → Tracer → lines (or JSON Lines, or a per-reason count).
 */
import { existsSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { ReasonCounter } from '../kernel/reason-count.js';
import { EVENT_LABEL, formatCountTable, formatEventLine } from '../kernel/render.js';
import { checkHost, resolveNetnsRef } from '../kernel/trace-filter.js';
import type { KernelEvent } from '../kernel/trace-events.js';
import { findTracefs, removeLeftoverInstances } from '../kernel/tracefs.js';
import { DEFAULT_GROUPS, EVENT_GROUPS, type EventGroup, Tracer } from '../kernel/tracer.js';
import { jsonLine } from '../report/terminal.js';
import { EXIT } from './exit-codes.js';
import { parsePid, parsePort, parsePositive, usageError } from './flags.js';

/** The longest wait setTimeout can schedule (2^31-1 ms, about 24.8 days), in whole seconds. */
export const MAX_DURATION_S = Math.floor((2 ** 31 - 1) / 1000);

/**
 * Signals that stop a trace, and the exit status after the instance is removed: Ctrl-C and
 * SIGTERM are the documented ways to end a trace (0); a hang-up or SIGQUIT ends it too, with the
 * shell's 128 + signal number.
 */
const STOP_SIGNALS: Readonly<Record<'SIGINT' | 'SIGTERM' | 'SIGHUP' | 'SIGQUIT', number>> = {
  SIGINT: EXIT.OK,
  SIGTERM: EXIT.OK,
  SIGHUP: 128 + 1,
  SIGQUIT: 128 + 3,
};

export const TRACE_USAGE = `usage: tcpsleuth trace [options]

Live TCP events from the kernel, read through a private tracefs instance (no BPF, no kprobes):
who sent an RST and why (sk_rst_reason), which packets were dropped and why (skb_drop_reason),
which errors sockets report to their applications. Needs root. Ctrl-C stops.

options:
  --events LIST        comma-separated groups (default ${DEFAULT_GROUPS.join(',')}), or "all":
                         resets       tcp:tcp_send_reset (state, reason), tcp:tcp_receive_reset
                         drops        skb:kfree_skb (reason, location), IPv4/IPv6 packets only
                         errors       sock:inet_sk_error_report (the errno the application sees)
                         retransmits  tcp:tcp_retransmit_skb, tcp:tcp_retransmit_synack
                         states       sock:inet_sock_set_state (every TCP state change)
                         sockets      syscalls:sys_enter_socket (AF_INET/AF_INET6 socket() calls)
  --port N             only events with this port at either end (repeatable)
  --host ADDR          only events with this address at either end (repeatable)
  --pid N              only events raised while this process was running (repeatable)
  --comm NAME          only events raised while a task of this name was running (repeatable)
  --netns NAME         only events of this network namespace (an "ip netns" name,
                       /proc/PID/ns/net, pid:PID or an inode number): raised by its tasks, or in
                       interrupt context with one of its addresses as the local end
  --reason NAME        only events with this reason, e.g. NO_SOCKET (repeatable; checked against
                       this kernel's enums)
  --all-drops          include drops of non-IP packets (ARP, ...)
  --stack              print the kernel stack of each event
  --count              print no events; count them per event and reason, print a table at the end
  --json               JSON Lines: {"type":"event",...} per event, {"type":"lost",...}, a final {"type":"summary",...}
  --duration SECONDS   stop after this long (at most ${MAX_DURATION_S})
  --max-events N       stop after N events
  --buffer-kb N        per-CPU ring buffer of the instance (default 4096)

Lost events ("the kernel overwrote N events before they were read") are always reported.
Tracing instances left by a tcpsleuth trace killed with SIGKILL are removed at the start.
exit status: 0 ok (also when stopped by Ctrl-C or SIGTERM), 2 usage error or tracing not possible
(not root, no tracefs: the message says why), 129 / 131 stopped by SIGHUP / SIGQUIT`;

export function parseEventGroups(list: string): EventGroup[] {
  const all = Object.keys(EVENT_GROUPS) as EventGroup[];
  const out = new Set<EventGroup>();
  for (const item of list.split(',').map((s) => s.trim().toLowerCase()).filter((s) => s !== '')) {
    if (item === 'all') all.forEach((g) => out.add(g));
    else if ((all as string[]).includes(item)) out.add(item as EventGroup);
    else throw usageError(`--events: ${JSON.stringify(item)} is not an event group (${all.join(', ')}, or all)`);
  }
  if (out.size === 0) throw usageError('--events needs at least one event group');
  return [...out];
}

export async function runTrace(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      events: { type: 'string' },
      port: { type: 'string', multiple: true },
      host: { type: 'string', multiple: true },
      pid: { type: 'string', multiple: true },
      comm: { type: 'string', multiple: true },
      netns: { type: 'string' },
      reason: { type: 'string', multiple: true },
      'all-drops': { type: 'boolean', default: false },
      stack: { type: 'boolean', default: false },
      count: { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
      duration: { type: 'string' },
      'max-events': { type: 'string' },
      'buffer-kb': { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(`${TRACE_USAGE}\n`);
    return EXIT.OK;
  }
  if (positionals.length > 0) throw usageError(`trace takes no arguments (got ${JSON.stringify(positionals[0])}); see tcpsleuth trace --help`);
  const groups = values.events === undefined ? [...DEFAULT_GROUPS] : parseEventGroups(values.events);
  const durationS = values.duration === undefined ? null : parsePositive(values.duration, '--duration', false);
  if (durationS !== null && durationS > MAX_DURATION_S) throw usageError(`--duration ${values.duration} is too long: at most ${MAX_DURATION_S} seconds (about 24 days); for longer, leave --duration out and stop with Ctrl-C or SIGTERM`);
  const maxEvents = values['max-events'] === undefined ? null : parsePositive(values['max-events'], '--max-events', true);
  const bufferKb = values['buffer-kb'] === undefined ? undefined : parsePositive(values['buffer-kb'], '--buffer-kb', true);
  const pids = values.pid?.map((p) => parsePid(p, '--pid'));
  for (const pid of pids ?? []) {
    if (!existsSync(`/proc/${pid}`)) throw usageError(`--pid ${pid}: no such process (a trace can only follow a process that is running)`);
  }
  const hosts = values.host?.map(checkHost);
  const netns = values.netns === undefined ? undefined : await resolveNetnsRef(values.netns);

  const json = values.json;
  const counter = values.count ? new ReasonCounter() : null;
  let pendingOut: string[] = [];
  let flushScheduled = false;
  const flush = (): void => {
    flushScheduled = false;
    if (pendingOut.length === 0) return;
    const text = `${pendingOut.join('\n')}\n`;
    pendingOut = [];
    process.stdout.write(text);
  };
  const emit = (line: string): void => {
    pendingOut.push(line);
    if (!flushScheduled) {
      flushScheduled = true;
      setImmediate(flush);
    }
  };
  const root = await findTracefs();
  let seen = 0;
  const tracer: Tracer = new Tracer({
    groups,
    filter: {
      ports: values.port?.map((p) => parsePort(p, '--port')),
      hosts,
      pids,
      comms: values.comm,
      reasons: values.reason,
      ...(netns === undefined ? {} : { netnsInode: netns.inode, netnsPath: netns.path }),
    },
    tracefsRoot: root,
    stack: values.stack,
    allDrops: values['all-drops'],
    ...(bufferKb === undefined ? {} : { bufferSizeKb: bufferKb }),
    onEvent: (e: KernelEvent) => {
      if (maxEvents !== null && seen >= maxEvents) return;
      seen++;
      if (counter !== null) counter.add(e);
      else if (json) emit(jsonLine({ type: 'event', ...e }));
      else emit(formatEventLine(e));
      if (maxEvents !== null && seen >= maxEvents) void tracer.stop();
    },
    onLost: (count, cpu) => {
      if (json) emit(jsonLine({ type: 'lost', cpu, count }));
      else emit(`!! the kernel lost ${count} events on CPU ${cpu} before they could be read (ring buffer full): use --buffer-kb, fewer --events or narrower filters`);
    },
    onNote: (note) => {
      process.stderr.write(`tcpsleuth: note: ${note}\n`);
    },
  });

  // Every signal that would end the process removes the instance first (SIGKILL cannot be caught:
  // the next trace removes what it leaves, see below).
  let stoppedBy: keyof typeof STOP_SIGNALS | null = null;
  const handlers = (Object.keys(STOP_SIGNALS) as (keyof typeof STOP_SIGNALS)[]).map((sig) => {
    const handler = (): void => {
      stoppedBy ??= sig;
      // After a hang-up the terminal may be gone: a failed write to stderr must not end the process early.
      if (sig === 'SIGHUP') process.stderr.on('error', () => undefined);
      void tracer.stop();
    };
    process.on(sig, handler);
    return [sig, handler] as const;
  });
  let timer: NodeJS.Timeout | null = null;
  try {
    const leftovers = await removeLeftoverInstances(root);
    if (leftovers.length > 0) {
      process.stderr.write(`tcpsleuth: removed ${leftovers.length === 1 ? 'a tracing instance' : `${leftovers.length} tracing instances`} left by a tcpsleuth trace that no longer runs (killed with SIGKILL?): ${leftovers.join(' ')}\n`);
    }
    await tracer.start();
    const what = tracer.enabled.map((n) => EVENT_LABEL[n] ?? n).join(', ');
    process.stderr.write(`tcpsleuth: tracing ${what} in ${tracer.instancePath}${durationS === null ? '' : ` for ${durationS}s`}; Ctrl-C to stop\n`);
    if (durationS !== null) timer = setTimeout(() => void tracer.stop(), durationS * 1000);
    const stats = await tracer.finished();
    flush();
    const seconds = (stats.stoppedAt ?? Date.now() / 1000) - stats.startedAt;
    if (counter !== null) {
      const rows = counter.rows();
      if (json) process.stdout.write(`${jsonLine({ type: 'count', seconds, rows })}\n`);
      else process.stdout.write(`${formatCountTable(rows, seconds)}\n`);
    }
    const summary = { type: 'summary', seconds, events: seen, filtered: stats.filtered, lost: stats.lost, perEvent: stats.perEvent, notes: tracer.notes };
    if (json) process.stdout.write(`${jsonLine(summary)}\n`);
    process.stderr.write(`tcpsleuth: ${seen} events in ${seconds.toFixed(1)}s (${stats.filtered} filtered out, ${stats.lost} lost by the kernel); tracing instance removed${stoppedBy === null ? '' : ` (stopped by ${stoppedBy})`}\n`);
    return stoppedBy === null ? EXIT.OK : STOP_SIGNALS[stoppedBy];
  } finally {
    if (timer !== null) clearTimeout(timer);
    await tracer.stop().catch(() => undefined);
    for (const [sig, handler] of handlers) process.off(sig, handler);
  }
}
