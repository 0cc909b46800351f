/**
 * Runs one scenario from a clean slate to nothing left behind:
 *
 *   namespace (fresh, `tsllab-<pid>-<random>`) → addresses on its lo → sysctls → kernel tracer →
 *   two tcpdumps (lo as pcap, any as Linux cooked capture), both confirmed listening →
 *   the scenario's socket programs → marker datagram, captures complete → tracer drained →
 *   programs killed → namespace deleted (its nft tables with it) → analyze + truth.json.
 *
 * Every step that creates something registers how to undo it, and the undo runs in `finally`;
 * SIGHUP/SIGINT/SIGQUIT/SIGTERM stop the run's processes and wait for them, then end the process
 * through `exit` (status 128 + the signal), where the namespace and tracing-instance handlers of
 * netns.ts and tracefs.ts and the temporary-directory handler here remove what is left.
 */

import { rmSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { TsleuthError } from '../errors.js';

import { analyze } from '../analyze/analyze.js';
import type { ConnectionRecord, SummaryRecord } from '../analyze/records.js';
import { resolveNetns } from '../kernel/trace-filter.js';
import { readProcNetTcp } from '../kernel/proc-net-tcp.js';
import type { TcpSocket } from '../kernel/tcp-socket.js';
import { drawAddresses, drawPort, type LabAddresses } from './addresses.js';
import { KernelView } from './kernel-view.js';
import { checkOutDir } from './out-dir.js';
import { EXIT_SIGNALS, NetNamespace } from './netns.js';
import type { Outcome } from './outcome.js';
import { Peer } from './peer.js';
import { CaptureRecorder, type CaptureStats } from './recorder.js';
import type { LabContext, Scenario } from './scenario.js';
import { buildTimeline, type TimelineRow } from './timeline.js';
import { buildTruth, type Truth } from './truth.js';
import { readWire } from './wire.js';



/** Prefix of every namespace the lab creates (`tcpsleuth lab clean` removes them). */
export const LAB_NETNS_PREFIX = 'tsllab';
/** Recordings of a run without --out live in `<tmpdir>/tcpsleuth-lab-<pid>-XXXXXX` until it ends. */
export const LAB_TMP_PREFIX = 'tcpsleuth-lab-';

export interface RunOptions {
  /** Keep the recordings in this directory (`<dir>/<scenario>/` with --all). */
  outDir?: string;
}

export interface LabNote {
  ts: number;
  text: string;
  /** An observation of the kernel's socket table (LabContext.observe), not the lab's own action. */
  kernel?: boolean;
}

export interface LabRun {
  scenario: Scenario;
  /** Where the files are; removed after the run unless outDir was given. */
  dir: string;
  kept: boolean;
  addresses: LabAddresses;
  port: number;
  namespace: string;
  records: ConnectionRecord[];
  summary: SummaryRecord;
  truth: Truth;
  timeline: TimelineRow[];
  captures: CaptureStats[];
  /** The scenario's own failure (a socket program that did not answer, an event that never came). */
  error: string | null;
  durationS: number;
}

let signalsInstalled = false;
/** Temporary recording directories of runs in progress (removed at exit, whatever the cause). */
const liveTmpDirs = new Set<string>();

/** What the run in progress started that is not removed by an exit handler of its own. */
interface ActiveRun {
  recorders: CaptureRecorder[];
  peers: () => Peer[];
  ns: NetNamespace;
}
let active: ActiveRun | null = null;
let interruptedBy: NodeJS.Signals | null = null;
let interruptHook: ((signal: NodeJS.Signals) => void) | null = null;
/** How long an interruption may take to stop the run's processes before the process exits anyway. */
const INTERRUPT_GRACE_MS = 3000;

/**
 * Called (synchronously, once) when a signal interrupts the lab, after the run in progress was
 * stopped and before the process exits with 128 + the signal's number: the command says what
 * was interrupted and what had completed.
 */
export function onInterrupt(hook: ((signal: NodeJS.Signals) => void) | null): void {
  interruptHook = hook;
}

/** Kills the run's tcpdumps and socket programs, waits until they have exited, deletes the namespace. */
async function stopActive(): Promise<void> {
  const a = active;
  if (a === null) return;
  await Promise.all([...a.recorders.map((r) => r.kill().catch(() => undefined)), ...a.peers().map((p) => p.kill().catch(() => undefined))]);
  await a.ns.destroy();
}

/**
 * SIGHUP (the terminal closed), SIGINT, SIGQUIT and SIGTERM: stop the run in progress, wait for
 * its processes, let the command report, then exit with 128 + the signal's number, where the exit
 * handlers of netns.ts, tracefs.ts and this module remove what is left (namespace, tracing
 * instance, temporary directory). A second signal during that is ignored; the grace period bounds it.
 */
function installSignalHandlers(): void {
  if (signalsInstalled) return;
  signalsInstalled = true;
  process.on('exit', () => {
    for (const d of liveTmpDirs) rmSync(d, { recursive: true, force: true });
  });
  for (const [sig, num] of Object.entries(EXIT_SIGNALS) as [NodeJS.Signals, number][]) {
    process.on(sig, () => {
      if (interruptedBy !== null) return;
      interruptedBy = sig;
      const status = 128 + num;
      const force = setTimeout(() => process.exit(status), INTERRUPT_GRACE_MS);
      void stopActive()
        .catch(() => undefined)
        .finally(() => {
          clearTimeout(force);
          try {
            interruptHook?.(sig);
          } catch {
            // the terminal may be gone (SIGHUP): nothing to tell
          }
          process.exit(status);
        });
    });
  }
}

function now(): number {
  return (performance.timeOrigin + performance.now()) / 1000;
}

async function sleep(ms: number): Promise<void> {
  await new Promise((r) => setTimeout(r, ms));
}

class Context implements LabContext {
  readonly family: 4 | 6;
  readonly serverAddr: string;
  readonly clientAddr: string;
  readonly port: number;
  readonly peers: Peer[] = [];
  readonly outcomes: Outcome[] = [];
  readonly notes: LabNote[] = [];
  readonly nftRules: string[] = [];
  constructor(
    private readonly ns: NetNamespace,
    addrs: LabAddresses,
    port: number,
    private readonly kernel: KernelView,
  ) {
    this.family = addrs.family;
    this.serverAddr = addrs.server;
    this.clientAddr = addrs.client;
    this.port = port;
  }

  async peer(role: string): Promise<Peer> {
    const p = await Peer.start(this.ns, role, (o) => this.outcomes.push(o));
    this.peers.push(p);
    return p;
  }

  async nft(ruleset: string): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      const child = this.ns.spawn('nft', ['-f', '-'], { stdio: ['pipe', 'ignore', 'pipe'] });
      let err = '';
      child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
      child.once('error', reject);
      child.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`nft -f failed (${code}): ${err.trim()}\n${ruleset}`))));
      child.stdin!.end(ruleset);
    });
    this.nftRules.push(ruleset);
  }

  async sysctl(key: string, value: string | number): Promise<void> {
    await this.ns.sysctl(key, value);
  }

  async sockets(): Promise<TcpSocket[]> {
    for (const p of this.peers) {
      try {
        return await readProcNetTcpStrict(p.pid);
      } catch {
        // that program is gone: try the next
      }
    }
    const { stdout } = await this.ns.run('cat', ['/proc/net/tcp', '/proc/net/tcp6']);
    const { parseProcNetTcp } = await import('../kernel/proc-net-tcp.js');
    const [v4, v6] = stdout.split(/\n(?=\s*sl\s)/);
    return [...parseProcNetTcp(v4 ?? '', 'AF_INET'), ...parseProcNetTcp(v6 ?? '', 'AF_INET6')];
  }

  async waitSocket(match: (s: TcpSocket) => boolean, what: string, opts: { absent?: boolean; timeoutMs?: number } = {}): Promise<TcpSocket | null> {
    const deadline = Date.now() + (opts.timeoutMs ?? 5000);
    for (;;) {
      const found = (await this.sockets()).find(match) ?? null;
      if (opts.absent === true ? found === null : found !== null) return found;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${opts.absent === true ? 'no more ' : ''}${what}`);
      await sleep(10);
    }
  }

  waitEvent(match: Parameters<KernelView['waitFor']>[0], what: string, timeoutMs = 5000): ReturnType<KernelView['waitFor']> {
    return this.kernel.waitFor(match, timeoutMs, what);
  }

  note(text: string): void {
    this.notes.push({ ts: now(), text });
  }

  observe(text: string): void {
    this.notes.push({ ts: now(), text, kernel: true });
  }
}

/** /proc/<pid>/net/tcp{,6}, failing when the process is gone (readProcNetTcp would return []). */
async function readProcNetTcpStrict(pid: number): Promise<TcpSocket[]> {
  const { access } = await import('node:fs/promises');
  await access(`/proc/${pid}/net/tcp`);
  return readProcNetTcp(pid);
}

export async function runScenario(scenario: Scenario, options: RunOptions = {}): Promise<LabRun> {
  installSignalHandlers();
  // An interrupted lab starts nothing new: the process is about to exit.
  if (interruptedBy !== null) return new Promise<never>(() => undefined);
  const t0 = now();
  const kept = options.outDir !== undefined;
  const dir = kept ? checkOutDir(options.outDir!) : await mkdtemp(join(tmpdir(), `${LAB_TMP_PREFIX}${process.pid}-`));
  try {
    await mkdir(dir, { recursive: true });
  } catch (e) {
    throw new TsleuthError('TSL_ERR_USAGE', `--out ${JSON.stringify(options.outDir ?? dir)}: cannot create ${dir} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  if (!kept) liveTmpDirs.add(dir);
  const addrs = drawAddresses(scenario.family);
  const port = drawPort();
  const ns = await NetNamespace.create(LAB_NETNS_PREFIX);
  let kernel: KernelView | null = null;
  const recorders: CaptureRecorder[] = [];
  let ctx: Context | null = null;
  let error: string | null = null;
  let captures: CaptureStats[] = [];
  active = { recorders, peers: () => ctx?.peers ?? [], ns };
  try {
    if (addrs.family === 4) {
      await ns.run('ip', ['addr', 'add', `${addrs.server}/${addrs.prefixLen}`, 'dev', 'lo']);
      await ns.run('ip', ['addr', 'add', `${addrs.client}/${addrs.prefixLen}`, 'dev', 'lo']);
    } else {
      await ns.run('ip', ['-6', 'addr', 'add', `${addrs.server}/${addrs.prefixLen}`, 'dev', 'lo', 'nodad']);
      await ns.run('ip', ['-6', 'addr', 'add', `${addrs.client}/${addrs.prefixLen}`, 'dev', 'lo', 'nodad']);
    }
    for (const [k, v] of Object.entries(scenario.sysctls ?? {})) await ns.sysctl(k, v);
    kernel = new KernelView([addrs.server, addrs.client], await resolveNetns(ns.name));
    await kernel.start();
    recorders.push(await CaptureRecorder.start(ns, 'lo', join(dir, 'capture.pcap')));
    recorders.push(await CaptureRecorder.start(ns, 'any', join(dir, 'capture-any.pcap')));
    ctx = new Context(ns, addrs, port, kernel);
    try {
      await scenario.run(ctx);
    } catch (e) {
      error = e instanceof Error ? e.message : String(e);
    }
    // The marker datagram: once both tcpdumps printed it, both files hold every earlier packet.
    await ns.run('bash', ['-c', `echo tcpsleuth-lab-end > /dev/udp/${addrs.server}/9`]).catch(() => undefined);
    captures = await Promise.all(recorders.map((r) => r.stop(addrs.server)));
    recorders.length = 0;
    // The tracer is drained before the programs are killed: their sockets' last words (FIN, RST
    // on exit) belong to no scenario.
    await kernel.stop();
  } finally {
    await Promise.all(recorders.map((r) => r.kill().catch(() => undefined)));
    await kernel?.stop().catch(() => undefined);
    for (const p of ctx?.peers ?? []) await p.kill().catch(() => undefined);
    await ns.destroy();
    active = null;
  }

  const records: ConnectionRecord[] = [];
  let summary: SummaryRecord | null = null;
  for await (const r of analyze(join(dir, 'capture.pcap'), { likelyServerPorts: new Set([port]) })) {
    if (r.type === 'summary') summary = r;
    else records.push(r);
  }
  const wire = await readWire(join(dir, 'capture.pcap'));
  kernel!.keepNear(wire.map((p) => p.ts));
  const events = kernel!.events;
  const outcomes = ctx!.outcomes;
  const truth = buildTruth({
    scenario,
    namespace: ns.name,
    addresses: addrs,
    port,
    started: t0,
    ended: now(),
    records,
    wire,
    events,
    outcomes,
    nft: ctx!.nftRules,
    error,
    kernelNotes: [
      ...kernel!.notes.map((text) => ({ ts: null, source: 'tracer' as const, text })),
      ...ctx!.notes.filter((n) => n.kernel === true).map((n) => ({ ts: n.ts, source: 'sockets' as const, text: n.text })),
    ],
    lostEvents: kernel!.lost,
  });
  const timeline = buildTimeline({ wire, events, outcomes, notes: ctx!.notes, serverAddr: addrs.server, port });
  await writeFile(join(dir, 'events.jsonl'), events.map((e) => JSON.stringify(e)).join('\n') + (events.length > 0 ? '\n' : ''));
  await writeFile(join(dir, 'outcomes.jsonl'), outcomes.map((o) => JSON.stringify(o)).join('\n') + (outcomes.length > 0 ? '\n' : ''));
  await writeFile(join(dir, 'analysis.jsonl'), [...records, summary].map((r) => JSON.stringify(r)).join('\n') + '\n');
  await writeFile(join(dir, 'truth.json'), `${JSON.stringify(truth, null, 2)}\n`);
  const run: LabRun = {
    scenario,
    dir,
    kept,
    addresses: addrs,
    port,
    namespace: ns.name,
    records,
    summary: summary!,
    truth,
    timeline,
    captures,
    error,
    durationS: now() - t0,
  };
  if (!kept) {
    await rm(dir, { recursive: true, force: true });
    liveTmpDirs.delete(dir);
  }
  return run;
}
