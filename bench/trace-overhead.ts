/**
 * What `tcpsleuth trace` costs: a loopback connection storm in a private network namespace,
 * measured without tracing and with tracing (every event group, filtered to the namespace), in
 * one run; plus the events per second the tracer read and whether the kernel lost any.
 *
 *   node dist/bench/trace-overhead.js [--seconds N] [--parallel N] [--groups LIST]
 *
 * Needs root (network namespaces, tracefs). The storm is bounded in time and stays on the
 * namespace's loopback.
 */
import { once } from 'node:events';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { NetNamespace } from '../src/lab/netns.js';
import { resolveNetns } from '../src/kernel/trace-filter.js';
import { type EventGroup, EVENT_GROUPS, Tracer } from '../src/kernel/tracer.js';

/** Server and clients in one process: PARALLEL loops of connect → write 1 byte → close, for SECONDS. */
const STORM = `
import net from 'node:net';
const [port, seconds, parallel, mode] = process.argv.slice(1).map((x, i) => i < 3 ? Number(x) : x);
const server = net.createServer((s) => { s.on('error', () => {}); s.on('data', () => s.end()); s.on('end', () => s.destroy()); });
server.listen(port, '127.0.0.1', () => {
  let done = 0, failed = 0;
  const until = Date.now() + seconds * 1000;
  const start = process.hrtime.bigint();
  const loop = () => {
    if (Date.now() >= until) return Promise.resolve();
    return new Promise((resolve) => {
      const c = net.connect({ port: mode === 'refused' ? port + 1 : port, host: '127.0.0.1' }, () => c.write('x'));
      c.on('data', () => {});
      c.on('error', () => { failed++; resolve(); });
      c.on('close', () => { done++; resolve(); });
    }).then(loop);
  };
  Promise.all(Array.from({ length: parallel }, loop)).then(() => {
    const secs = Number(process.hrtime.bigint() - start) / 1e9;
    process.stdout.write(JSON.stringify({ connections: done, failed, seconds: secs }) + '\\n');
    process.exit(0);
  });
});
`;

interface StormResult {
  connections: number;
  failed: number;
  seconds: number;
}

async function storm(ns: NetNamespace, port: number, seconds: number, parallel: number, mode: 'ok' | 'refused'): Promise<StormResult> {
  const child = ns.spawn(process.execPath, ['--input-type=module', '-e', STORM, String(port), String(seconds), String(parallel), mode], { stdio: ['ignore', 'pipe', 'inherit'] });
  const out: Buffer[] = [];
  child.stdout!.on('data', (c: Buffer) => out.push(c));
  await once(child, 'close');
  return JSON.parse(Buffer.concat(out).toString('utf8')) as StormResult;
}

export interface TraceBenchOptions {
  seconds?: number;
  parallel?: number;
  groups?: EventGroup[];
}

/** Runs both storms without and with tracing and prints the report. */
export async function runTraceOverheadBench(options: TraceBenchOptions = {}): Promise<Record<string, unknown>> {
  const seconds = options.seconds ?? 4;
  const parallel = options.parallel ?? 16;
  const groups = options.groups ?? (Object.keys(EVENT_GROUPS) as EventGroup[]);
  const ns = await NetNamespace.create('tsl-b');
  try {
    const netnsInode = await resolveNetns(ns.name);
    const report: Record<string, unknown> = { seconds, parallel, groups };
    for (const mode of ['ok', 'refused'] as const) {
      const base = await storm(ns, 30000, seconds, parallel, mode);
      const tracer = new Tracer({ groups, filter: { netnsInode }, onEvent: () => undefined });
      await tracer.start();
      const traced = await storm(ns, 30000, seconds, parallel, mode);
      const stats = await tracer.stop();
      const traceSeconds = (stats.stoppedAt ?? 0) - stats.startedAt;
      const baseRate = base.connections / base.seconds;
      const tracedRate = traced.connections / traced.seconds;
      report[mode === 'ok' ? 'connect_close_storm' : 'refused_connect_storm'] = {
        connections_per_s_without_trace: Math.round(baseRate),
        connections_per_s_with_trace: Math.round(tracedRate),
        overhead_percent: Number((100 * (1 - tracedRate / baseRate)).toFixed(1)),
        events: stats.events,
        events_per_s: Math.round(stats.events / traceSeconds),
        events_per_connection: Number((stats.events / Math.max(1, traced.connections)).toFixed(2)),
        lines_read: stats.lines,
        lost_events: stats.lost,
      };
    }
    process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
    return report;
  } finally {
    await ns.destroy();
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      seconds: { type: 'string', default: '4' },
      parallel: { type: 'string', default: '16' },
      groups: { type: 'string', default: Object.keys(EVENT_GROUPS).join(',') },
    },
  });
  await runTraceOverheadBench({ seconds: Number(values.seconds), parallel: Number(values.parallel), groups: values.groups.split(',') as EventGroup[] });
}

// Standalone: node dist/bench/trace-overhead.js [--seconds N] [--parallel N] [--groups LIST]
if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((e: unknown) => {
    process.stderr.write(`trace-overhead: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exitCode = 1;
  });
}
