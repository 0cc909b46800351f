/**
 * Shared set-up for the kernel tests: a private network namespace (src/lab/netns.ts), the traffic
 * programs of kernel-peer.ts started inside it, and the kernel commands run as real processes.
 */
import { cliPath } from './paths.js';
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { NetNamespace } from '../../src/lab/netns.js';
import { LineWatcher } from './line-watcher.js';
import { withTimeout } from './timeout.js';

export const PEER = fileURLToPath(new URL('./kernel-peer.js', import.meta.url));
/** The real tcpsleuth CLI: its first argument is the command (trace, sockets, leaks). */
export const KERNEL_CLI_PATH = cliPath;

export interface Peer {
  child: ChildProcess;
  out: LineWatcher;
  pid: number;
  /** Fields after "ready <pid>" (e.g. the client's local port). */
  ready: string[];
  send(cmd: string): void;
  kill(): Promise<void>;
}

/** Starts `kernel-peer.js MODE ARGS` in the namespace and waits for its "ready" line. */
export async function startPeer(ns: NetNamespace, mode: string, args: (string | number)[]): Promise<Peer> {
  const child = ns.spawn(process.execPath, [PEER, mode, ...args.map(String)], { stdio: ['pipe', 'pipe', 'pipe'] });
  const out = new LineWatcher(child.stdout!, `kernel-peer ${mode}`);
  const err: string[] = [];
  child.stderr!.on('data', (c: Buffer) => err.push(c.toString()));
  const line = await out.waitFor((l) => l.startsWith('ready '), 10_000, '"ready" line');
  const parts = line.split(' ');
  return {
    child,
    out,
    pid: Number(parts[1]),
    ready: parts.slice(2),
    send(cmd: string) {
      child.stdin!.write(`${cmd}\n`);
    },
    async kill() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = once(child, 'exit');
      child.kill('SIGKILL');
      await withTimeout(exited, 5000, `kernel-peer ${mode} did not exit`);
    },
  };
}

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs a kernel command (trace/sockets/leaks) to completion, in a namespace when one is given. */
export async function runCli(args: string[], ns: NetNamespace | null, timeoutMs = 20_000): Promise<CliResult> {
  const child = ns === null ? spawn(process.execPath, [KERNEL_CLI_PATH, ...args], { stdio: ['ignore', 'pipe', 'pipe'] }) : ns.spawn(process.execPath, [KERNEL_CLI_PATH, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  child.stdout!.on('data', (c: Buffer) => out.push(c));
  child.stderr!.on('data', (c: Buffer) => err.push(c));
  const closed = once(child, 'close') as Promise<[number | null, NodeJS.Signals | null]>;
  try {
    const [code, signal] = await withTimeout(closed, timeoutMs, `tcpsleuth ${args.join(' ')} did not finish`);
    return { code, signal, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') };
  } finally {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
}

/** Parses JSON Lines output. */
export function jsonLines(text: string): Record<string, unknown>[] {
  return text
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

/** A port for a test's server (every test has its own namespace, so any free-looking number works). */
export function testPort(): number {
  return 20000 + Math.floor(Math.random() * 20000);
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/**
 * A namespace holding the seed's leaky server (accepts, never closes) after `fin` clients closed
 * gracefully (their sockets sit in CLOSE_WAIT on the server) and `rst` reset theirs.
 */
export async function leakyServerNamespace(fin: number, rst: number): Promise<{ ns: NetNamespace; server: Peer; port: number }> {
  const ns = await NetNamespace.create('tsl-t');
  const port = testPort();
  const server = await startPeer(ns, 'leaky-server', [port]);
  const burst = await startPeer(ns, 'burst', [port, fin, rst]);
  await burst.out.waitFor((l) => l === 'done', 10_000, 'burst done');
  await server.out.waitFor((l) => l === `accepted ${fin + rst}`, 5000, 'all accepts');
  await burst.kill();
  return { ns, server, port };
}
