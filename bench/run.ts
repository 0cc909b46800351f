/**
 * `npm run bench`: generates a 1× and a 5× capture, times tcpsleuth, tshark and tcptrace on each
 * (wall clock and peak RSS), and prints the figures beside tcpsleuth's targets; then measures the
 * chat fan-out against ncat --chat and the overhead of `tcpsleuth trace` on a connection storm.
 *
 * The 5× file repeats the 1× traffic five times, so a tool whose memory is bounded by the
 * connections open at once has the same peak RSS on both. The runs are sequential so that the
 * tools never compete for the two cores or the page cache.
 *
 * Exit status: 0 once the figures are printed, whether or not targets are met; 1 if a command
 * failed or the captures could not be written; 2 on bad usage.
 */
import { closeSync, mkdirSync, mkdtempSync, openSync, readSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseBenchArgs, USAGE, type BenchArgs } from './args.js';
import { DEFAULT_GENERATE_OPTIONS, generateCapture } from './generate.js';
import { GNU_TIME, haveGnuTime, type Measurement, measure } from './measure.js';
import { type CaptureFile, describeCapture, resultTable, type Run, targetTable } from './report.js';
import { benchTools } from './tools.js';
import { runChatBench } from './chat-fanout.js';
import { runTraceOverheadBench } from './trace-overhead.js';

const REPEAT_LARGE = 5;

async function main(): Promise<number> {
  let args: BenchArgs;
  if (process.argv.includes('--help') || process.argv.includes('-h')) {
    console.log(USAGE);
    return 0;
  }
  try {
    args = parseBenchArgs(process.argv.slice(2), DEFAULT_GENERATE_OPTIONS.targetPackets);
  } catch (err) {
    console.error(`${(err as Error).message}\n${USAGE}`);
    return 2;
  }
  if (!haveGnuTime()) {
    console.error(`${GNU_TIME} (GNU time, Debian package "time") is needed to measure peak RSS; install it and run again.`);
    return 1;
  }
  const dir = args.keepDir === null ? mkdtempSync(join(tmpdir(), 'tcpsleuth-bench-')) : resolve(args.keepDir);
  mkdirSync(dir, { recursive: true });
  // Multi-gigabyte captures must not outlive an interrupted run.
  const onSignal = (): void => {
    if (args.keepDir === null) rmSync(dir, { recursive: true, force: true });
    process.exit(130);
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    return await bench(args, dir);
  } finally {
    if (args.keepDir === null) rmSync(dir, { recursive: true, force: true });
  }
}

async function bench(args: BenchArgs, dir: string): Promise<number> {
  console.log(`tcpsleuth benchmark: Node ${process.version}, ${availableParallelism()} cores, captures in ${dir}`);
  const files = [writeCapture(dir, '1x', args.packets, 1)];
  if (!args.skip5x) files.push(writeCapture(dir, '5x', args.packets, REPEAT_LARGE));

  const tools = benchTools();
  for (const t of tools) if (t.missing !== null) console.log(`${t.name}: ${t.missing}; skipped`);
  const results: Run[] = [];
  const available = tools.filter((t) => t.missing === null);
  for (const file of files) {
    // This VM's speed wanders over seconds: the tools take turns, round after round, so that a
    // slow spell hits all of them alike, and each tool's fastest run counts. The 1× file gets
    // `runs` rounds; the 5× file, minutes per round for the peers, half as many.
    const rounds = file === files[0] ? args.runs : Math.ceil(args.runs / 2);
    const all = new Map<string, Measurement[]>(available.map((t) => [t.name, []]));
    for (let round = 1; round <= rounds; round++) {
      // Each round starts with the next tool: a place in the order that is slow (the run right
      // after the 5× file was written, or after tshark's 1.4 GB) must not always fall on one tool.
      const order = available.map((_, i) => available[(i + round - 1) % available.length]!);
      for (const tool of order) {
        const earlier = all.get(tool.name)!;
        if (earlier.some((m) => m.exitCode !== 0)) continue;
        process.stdout.write(`${file.label}, round ${round} of ${rounds}: ${tool.name}... `);
        // Every run starts with the file in the page cache: the first one must not pay for the disk.
        warmPageCache(file.path);
        const m = await measure(tool.command, tool.args(file.path), dir);
        console.log(m.exitCode === 0 ? `${m.seconds.toFixed(2)} s` : `FAILED with exit status ${m.exitCode}`);
        if (m.exitCode !== 0 && m.stderrTail !== '') console.log(indent(m.stderrTail));
        earlier.push(m);
      }
    }
    for (const tool of available) {
      const ms = all.get(tool.name)!;
      const best = ms.find((m) => m.exitCode !== 0) ?? ms.reduce((x, y) => (y.seconds < x.seconds ? y : x));
      results.push({ tool: tool.name, file, m: best, rounds: ms });
    }
  }
  console.log(`\n${resultTable(results)}\n(MB = 10^6 bytes; packets/s and MB/s are over the whole run, start-up included)\n`);
  console.log(targetTable(results, files));
  if (!args.analyzeOnly) {
    console.log('\n== chat fan-out: tcpsleuth chat vs ncat --chat');
    await runChatBench();
    console.log('\n== tracing overhead: a loopback connection storm with and without tcpsleuth trace');
    await runTraceOverheadBench();
  }
  return results.some((r) => r.m.exitCode !== 0) ? 1 : 0;
}

function warmPageCache(path: string): void {
  const fd = openSync(path, 'r');
  const buf = Buffer.allocUnsafe(8 << 20);
  try {
    while (readSync(fd, buf, 0, buf.length, null) > 0);
  } finally {
    closeSync(fd);
  }
}

function writeCapture(dir: string, label: string, packets: number, repeat: number): CaptureFile {
  const path = join(dir, `capture-${label}.pcap`);
  const scale = packets / DEFAULT_GENERATE_OPTIONS.targetPackets;
  const started = process.hrtime.bigint();
  const stats = generateCapture(path, {
    targetPackets: packets,
    // The connection minimum shrinks with the packets, or a quick run would still start 60,000 connections.
    connections: Math.ceil(DEFAULT_GENERATE_OPTIONS.connections * scale),
    repeat,
    seed: DEFAULT_GENERATE_OPTIONS.seed,
  });
  const file = { label, path, stats, generateSeconds: Number(process.hrtime.bigint() - started) / 1e9 };
  console.log(describeCapture(file));
  return file;
}

function indent(text: string): string {
  return text
    .split('\n')
    .map((line) => `    ${line}`)
    .join('\n');
}

process.exitCode = await main();
