/**
 * Chat fan-out: `tcpsleuth chat serve` against `ncat --chat` (Debian package ncat), same
 * workload, same run, loopback.
 *
 * Workload: 50 clients; one sends 20,000 lines, either as one burst (one write) or one write per
 * line; the other 49 must each receive every line. Each line carries its sequence number and the
 * sender's monotonic clock at write time (CLOCK_MONOTONIC is shared by every process on the host),
 * so a receiver can tell whether the line arrived intact, whether it was tagged with its sender,
 * and how long it took:
 *   S000123 T0000012345678901 <40 bytes derived from the sequence number>
 * Then again with one of the 49 receivers frozen (it never reads after the server's greeting)
 * and FROZEN_LINES lines, more than kernel buffers can hide: do the other 48 keep receiving, and
 * how fast? A run that makes no progress for STALL_MS counts as stalled and is
 * stopped; every run is bounded by RUN_TIMEOUT_MS.
 *
 * Roles: each server is its own process; the sender is its own process (so that its writes do
 * not compete with the receivers' event loop); the receivers live in this process.
 * tcpsleuth runs with its defaults except --flood-limit 0: ncat has no flood limit, and 20,000
 * lines as fast as possible is exactly what the default limit (20 lines/s) exists to slow down.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { connect, createServer, type Socket } from 'node:net';
import { availableParallelism } from 'node:os';
import { fileURLToPath, pathToFileURL } from 'node:url';

const CLIENTS = 50;
const LINES = 20_000;
/**
 * Lines sent in the frozen-reader runs: more than the kernel buffers between a server and one
 * stopped reader absorb (on loopback the server's send buffer starts near 2.6 MiB because the
 * MSS is 64 KiB, plus the reader's receive buffer), so a server that waits for the slowest
 * reader must stall. They are paced at FROZEN_RATE lines/s, one write per line, a rate the 48
 * live readers in this process keep up with: the run then measures what one frozen reader does
 * to the others, not whether this process can read faster than a server can write.
 */
const FROZEN_LINES = 100_000;
const FROZEN_RATE = 20_000;
const PAYLOAD_BYTES = 40;
/** "S" + 6 digits + " T" + 16 digits + " " + payload. */
const BODY_BYTES = 7 + 18 + 1 + PAYLOAD_BYTES;
const STALL_MS = 1000;
const RUN_TIMEOUT_MS = 30_000;

type Tool = 'tcpsleuth' | 'ncat';
type Mode = 'burst' | 'per-line' | 'paced';

const CHAT_COMMAND_JS = fileURLToPath(new URL('../src/cli/chat-command.js', import.meta.url));

/** Payload for a sequence number: 40 letters starting at seq % 26, so a shifted or cut line shows. */
const PAYLOADS = Array.from({ length: 26 }, (_, r) => Buffer.from(Array.from({ length: PAYLOAD_BYTES }, (_, i) => 97 + ((r + i) % 26))));

const nowUs = (): number => Number(process.hrtime.bigint() / 1000n);

/** The sender, as its own process: connect, say HELLO, wait for "go" on stdin, send, report. */
const SENDER_SCRIPT = `
import { connect } from 'node:net';
const [host, port, mode, n, payloadBytes] = process.argv.slice(1);
const N = Number(n), P = Number(payloadBytes);
const payloads = Array.from({ length: 26 }, (_, r) => Buffer.from(Array.from({ length: P }, (_, i) => 97 + ((r + i) % 26))));
const us = () => process.hrtime.bigint() / 1000n;
function line(i, t) {
  return Buffer.concat([Buffer.from('S' + String(i).padStart(6, '0') + ' T' + String(t).padStart(16, '0') + ' '), payloads[i % 26], Buffer.from('\\n')]);
}
const s = connect({ host, port: Number(port) });
s.setNoDelay(true);
s.on('error', (e) => { process.stdout.write('error ' + e.code + '\\n'); });
s.resume();
s.on('connect', () => { s.write('HELLO\\n'); process.stdout.write('connected\\n'); });
process.stdin.once('data', () => {
  const t0 = us();
  process.stdout.write('start ' + t0 + '\\n');
  if (mode === 'burst') {
    const all = [];
    for (let i = 0; i < N; i++) all.push(line(i, t0));
    s.write(Buffer.concat(all));
  } else if (mode === 'per-line') {
    for (let i = 0; i < N; i++) s.write(line(i, us()));
  } else {
    // paced: one write per line, RATE lines per second by the clock
    const rate = Number(process.argv[6]);
    let i = 0;
    const tick = () => {
      const due = Math.min(N, Math.floor((Number(us() - t0) / 1e6) * rate) + 1);
      for (; i < due; i++) s.write(line(i, us()));
      if (i < N) setTimeout(tick, 2);
      else s.write('', () => process.stdout.write('sent ' + us() + '\\n'));
    };
    tick();
    return;
  }
  s.write('', () => process.stdout.write('sent ' + us() + '\\n'));
});
`;

class Receiver {
  readonly socket: Socket;
  private rest: Buffer | null = null;
  private live = false;
  lines = 0;
  intact = 0;
  tagged = 0;
  doneAt = 0;
  lastAt = 0;
  readonly hello: Promise<void>;
  private helloResolve!: () => void;
  /** The server has accepted us: its first bytes (welcome or announce) arrived. */
  readonly accepted: Promise<void>;

  constructor(
    port: number,
    private readonly latencies: Float64Array,
    private readonly cursor: { n: number },
    readonly frozen: boolean,
    private readonly expected: number,
  ) {
    this.socket = connect({ host: '127.0.0.1', port });
    this.socket.on('error', () => undefined);
    this.hello = new Promise((r) => (this.helloResolve = r));
    this.accepted = new Promise((r) => this.socket.once('data', () => r()));
    if (frozen) {
      // A frozen reader: after the server's greeting it never reads again, so its receive
      // window fills and goes to zero.
      this.socket.once('data', () => this.socket.pause());
      this.helloResolve();
    } else {
      this.socket.on('data', (chunk: Buffer) => this.onData(chunk));
    }
  }

  get done(): boolean {
    return this.doneAt !== 0;
  }

  private onData(chunk: Buffer): void {
    const now = nowUs();
    const buf = this.rest === null ? chunk : Buffer.concat([this.rest, chunk]);
    let start = 0;
    for (;;) {
      const nl = buf.indexOf(10, start);
      if (nl === -1) break;
      this.line(buf, start, nl, now);
      start = nl + 1;
    }
    this.rest = start < buf.length ? Buffer.from(buf.subarray(start)) : null;
  }

  private line(buf: Buffer, s: number, e: number, now: number): void {
    if (!this.live) {
      // Everything up to the sender's HELLO is welcome/announce chatter.
      if (e - s >= 5 && buf.toString('latin1', e - 5, e) === 'HELLO') {
        this.live = true;
        this.helloResolve();
      }
      return;
    }
    // Server notices (tcpsleuth "*** ", ncat "<announce>") are not deliveries.
    if (buf[s] === 0x2a && buf[s + 1] === 0x2a && buf[s + 2] === 0x2a) return;
    if (e - s >= 10 && buf.toString('latin1', s, s + 10) === '<announce>') return;
    this.lines++;
    this.lastAt = now;
    let b = s;
    if (buf[s] === 0x3c) {
      // A tag "<name> " at the start of the line (a short JS scan: cheaper than a native call per line).
      const limit = Math.min(e - 1, s + 24);
      for (let i = s + 1; i < limit; i++) {
        if (buf[i] === 0x3e) {
          if (buf[i + 1] === 0x20) {
            this.tagged++;
            b = i + 2;
          }
          break;
        }
      }
    }
    if (e - b === BODY_BYTES && buf[b] === 0x53 && buf[b + 7] === 0x20 && buf[b + 8] === 0x54 && buf[b + 25] === 0x20) {
      let seq = 0;
      let ok = true;
      for (let i = b + 1; i < b + 7; i++) {
        const d = buf[i]! - 48;
        if (d < 0 || d > 9) ok = false;
        seq = seq * 10 + d;
      }
      let t = 0;
      for (let i = b + 9; i < b + 25; i++) {
        const d = buf[i]! - 48;
        if (d < 0 || d > 9) ok = false;
        t = t * 10 + d;
      }
      if (ok && seq < this.expected && buf.compare(PAYLOADS[seq % 26]!, 0, PAYLOAD_BYTES, b + 26, e) === 0) {
        this.intact++;
        if (this.cursor.n < this.latencies.length) this.latencies[this.cursor.n++] = now - t;
      }
    }
    if (this.lines === this.expected) this.doneAt = now;
  }
}

interface RunResult {
  tool: Tool;
  lines: number;
  mode: Mode;
  frozen: boolean;
  receivers: number;
  delivered: number;
  intact: number;
  tagged: number;
  complete: boolean;
  stalled: boolean;
  elapsedMs: number;
  deliveriesPerSec: number;
  p50Ms: number;
  p99Ms: number;
  note: string;
}

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const a = s.address();
  await new Promise<void>((r) => s.close(() => r()));
  return typeof a === 'object' && a !== null ? a.port : 0;
}

function linesOf(stream: NodeJS.ReadableStream, onLine: (l: string) => void): void {
  let tail = '';
  stream.setEncoding('utf8');
  stream.on('data', (c: string) => {
    const parts = (tail + c).split('\n');
    tail = parts.pop() ?? '';
    parts.forEach(onLine);
  });
}

function waitLine(stream: NodeJS.ReadableStream, match: (l: string) => boolean, ms: number, what: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms);
    linesOf(stream, (l) => {
      if (match(l)) {
        clearTimeout(t);
        resolve(l);
      }
    });
  });
}

interface ServerHandle {
  port: number;
  child: ChildProcess;
  log: string[];
  stop(): Promise<void>;
}

async function startServer(tool: Tool): Promise<ServerHandle> {
  let child: ChildProcess;
  let port: number;
  const log: string[] = [];
  if (tool === 'tcpsleuth') {
    const script = `import { runChat } from ${JSON.stringify(pathToFileURL(CHAT_COMMAND_JS).href)}; process.exitCode = await runChat(process.argv.slice(1));`;
    child = spawn(process.execPath, ['--input-type=module', '-e', script, 'serve', '--host', '127.0.0.1', '--port', '0', '--no-announce', '--quiet', '--flood-limit', '0'], { stdio: ['ignore', 'ignore', 'pipe'] });
    linesOf(child.stderr!, (l) => log.push(l));
    const l = await waitLine(child.stderr!, (x) => x.includes('listening on'), 10_000, 'tcpsleuth chat serve listening');
    port = Number(/:(\d+) as /.exec(l)?.[1]);
  } else {
    port = await freePort();
    child = spawn('ncat', ['-v', '-l', '--chat', '127.0.0.1', String(port)], { stdio: ['ignore', 'ignore', 'pipe'] });
    await waitLine(child.stderr!, (x) => x.includes('Listening on'), 10_000, 'ncat --chat listening');
  }
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  return {
    port,
    child,
    log,
    async stop() {
      child.kill(tool === 'tcpsleuth' ? 'SIGTERM' : 'SIGKILL');
      const t = setTimeout(() => child.kill('SIGKILL'), 7000);
      await exited;
      clearTimeout(t);
    },
  };
}

function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

async function measure(tool: Tool, mode: Mode, frozen: boolean): Promise<RunResult> {
  const server = await startServer(tool);
  const lines = frozen ? FROZEN_LINES : LINES;
  const latencies = new Float64Array(lines * CLIENTS);
  const cursor = { n: 0 };
  const receivers: Receiver[] = [];
  let sender: ChildProcess | null = null;
  try {
    // One at a time, each until the server has greeted it: ncat listens with a small backlog,
    // and a connection the kernel completed but the server never accepted would never hear a line.
    for (let i = 0; i < CLIENTS - 1; i++) {
      const r = new Receiver(server.port, latencies, cursor, frozen && i === 0, lines);
      receivers.push(r);
      await Promise.race([r.accepted, new Promise((_, rej) => setTimeout(() => rej(new Error(`receiver ${i} not greeted by the server`)), 10_000))]);
    }
    sender = spawn(process.execPath, ['--input-type=module', '-e', SENDER_SCRIPT, '127.0.0.1', String(server.port), mode, String(lines), String(PAYLOAD_BYTES), String(FROZEN_RATE)], { stdio: ['pipe', 'pipe', 'inherit'] });
    const senderOut: string[] = [];
    linesOf(sender.stdout!, (l) => senderOut.push(l));
    await waitLine(sender.stdout!, (l) => l === 'connected', 10_000, 'sender connected');
    await Promise.race([Promise.all(receivers.map((r) => r.hello)), new Promise((_, rej) => setTimeout(() => rej(new Error('HELLO did not reach every receiver')), 10_000))]);
    const startLine = waitLine(sender.stdout!, (l) => l.startsWith('start '), 10_000, 'sender start');
    sender.stdin!.write('go\n');
    const startUs = Number((await startLine).slice(6));
    const live = receivers.filter((r) => !r.frozen);
    // Watch progress: done, stalled (no receiver got anything for STALL_MS), or out of time.
    const outcome = await new Promise<'complete' | 'stalled' | 'timeout'>((resolve) => {
      const began = Date.now();
      let lastTotal = -1;
      let lastChange = Date.now();
      const tick = setInterval(() => {
        const total = live.reduce((a, r) => a + r.lines, 0);
        if (live.every((r) => r.done)) {
          clearInterval(tick);
          resolve('complete');
          return;
        }
        if (total !== lastTotal) {
          lastTotal = total;
          lastChange = Date.now();
        } else if (Date.now() - lastChange >= STALL_MS) {
          clearInterval(tick);
          resolve('stalled');
          return;
        }
        if (Date.now() - began > RUN_TIMEOUT_MS) {
          clearInterval(tick);
          resolve('timeout');
        }
      }, 10);
    });
    const delivered = live.reduce((a, r) => a + r.lines, 0);
    const endUs = outcome === 'complete' ? Math.max(...live.map((r) => r.doneAt)) : Math.max(...live.map((r) => r.lastAt), startUs);
    const elapsedMs = (endUs - startUs) / 1000;
    const lat = latencies.subarray(0, cursor.n).sort();
    let note = '';
    if (outcome === 'stalled') note = `stalled: no progress for ${STALL_MS} ms after ${delivered} of ${lines * live.length} deliveries (${(elapsedMs / 1000).toFixed(2)} s in)`;
    if (outcome === 'timeout') note = `not complete within ${RUN_TIMEOUT_MS / 1000} s`;
    if (tool === 'tcpsleuth') {
      const evicted = server.log.filter((l) => l.includes('not reading')).length;
      if (evicted > 0) note = `${note}${note === '' ? '' : '; '}${evicted} client${evicted === 1 ? '' : 's'} evicted as not reading`;
    }
    return {
      tool,
      lines,
      mode,
      frozen,
      receivers: live.length,
      delivered,
      intact: live.reduce((a, r) => a + r.intact, 0),
      tagged: live.reduce((a, r) => a + r.tagged, 0),
      complete: outcome === 'complete',
      stalled: outcome === 'stalled',
      elapsedMs,
      deliveriesPerSec: elapsedMs > 0 ? delivered / (elapsedMs / 1000) : 0,
      p50Ms: percentile(lat, 50) / 1000,
      p99Ms: percentile(lat, 99) / 1000,
      note,
    };
  } finally {
    for (const r of receivers) r.socket.destroy();
    if (sender !== null && sender.exitCode === null) {
      sender.kill('SIGKILL');
      await once(sender, 'exit');
    }
    await server.stop();
  }
}

function fmtRate(n: number): string {
  return n >= 1e6 ? `${(n / 1e6).toFixed(2)} M` : `${(n / 1e3).toFixed(0)} k`;
}

function pct(a: number, b: number): string {
  return b === 0 ? '-' : `${((100 * a) / b).toFixed(1)}%`;
}

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => r.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd()).join('\n');
}

function haveNcat(): Promise<boolean> {
  return new Promise((resolve) => {
    const p = spawn('ncat', ['--version'], { stdio: 'ignore' });
    p.on('error', () => resolve(false));
    p.on('exit', (code) => resolve(code === 0));
  });
}

/** Runs every measurement and prints the tables. */
export async function runChatBench(): Promise<void> {
  console.log(`chat fan-out: ${CLIENTS} clients, one sends ${LINES} lines of ${BODY_BYTES + 1} bytes; Node ${process.version}, ${availableParallelism()} cores, loopback`);
  const tools: Tool[] = ['tcpsleuth'];
  if (await haveNcat()) tools.push('ncat');
  else console.log('ncat: not installed (Debian package "ncat"); comparison skipped');
  const results: RunResult[] = [];
  const runs: Array<[Mode, boolean]> = [
    ['burst', false],
    ['per-line', false],
    ['paced', true],
  ];
  for (const [mode, frozen] of runs) {
    for (const tool of tools) {
      try {
        results.push(await measure(tool, mode, frozen));
      } catch (e) {
        console.log(`${tool} ${mode}${frozen ? ' frozen' : ''}: failed: ${(e as Error).message}`);
      }
    }
  }
  const head = ['tool', 'mode', 'deliveries/s', 'p50', 'p99', 'lines intact', 'tagged per line', 'complete', 'note'];
  const row = (r: RunResult): string[] => [
    r.tool,
    r.mode,
    fmtRate(r.deliveriesPerSec),
    Number.isNaN(r.p50Ms) ? '-' : `${r.p50Ms.toFixed(1)} ms`,
    Number.isNaN(r.p99Ms) ? '-' : `${r.p99Ms.toFixed(1)} ms`,
    pct(r.intact, r.delivered),
    pct(r.tagged, r.delivered),
    r.complete ? 'yes' : 'no',
    r.note,
  ];
  console.log('\nall 49 receivers reading:');
  console.log(table([head, ...results.filter((r) => !r.frozen).map(row)]));
  console.log(`\none receiver frozen (stops reading after the greeting); ${FROZEN_LINES} lines, one write per line, paced at ${FROZEN_RATE} lines/s; the other 48 receivers:`);
  console.log(
    table([
      ['tool', 'mode', 'others still flowing', 'others deliveries/s', 'delivered to others', 'p99', 'lines intact', 'note'],
      ...results
        .filter((r) => r.frozen)
        .map((r) => [
          r.tool,
          r.mode,
          r.complete ? 'yes' : 'no',
          fmtRate(r.deliveriesPerSec),
          `${r.delivered} of ${r.lines * r.receivers}`,
          Number.isNaN(r.p99Ms) ? '-' : `${r.p99Ms.toFixed(1)} ms`,
          pct(r.intact, r.delivered),
          r.note,
        ]),
    ]),
  );
  const targets: string[] = [];
  for (const mode of ['burst', 'per-line'] as Mode[]) {
    const t = results.find((r) => r.tool === 'tcpsleuth' && r.mode === mode && !r.frozen);
    const n = results.find((r) => r.tool === 'ncat' && r.mode === mode && !r.frozen);
    if (t !== undefined && n !== undefined && n.deliveriesPerSec > 0) {
      const ratio = t.deliveriesPerSec / n.deliveriesPerSec;
      targets.push(`${mode}: tcpsleuth reaches ${(ratio * 100).toFixed(0)}% of ncat's deliveries/s (target ≥ 50%: ${ratio >= 0.5 ? 'met' : 'NOT met'})`);
    }
  }
  if (targets.length > 0) console.log(`\n${targets.join('\n')}`);
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  runChatBench().then(
    () => undefined,
    (e: unknown) => {
      console.error(e instanceof Error ? (e.stack ?? e.message) : String(e));
      process.exitCode = 1;
    },
  );
}
