/**
 * The lab's handle on one socket program (agent.ts) running inside the scenario's namespace:
 * send it a command, await the outcomes of the calls it made.
 */
import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { TsleuthError } from '../errors.js';
import type { NetNamespace } from './netns.js';
import type { AgentReply, Outcome } from './outcome.js';

export const AGENT_PATH = fileURLToPath(new URL('./agent.js', import.meta.url));

export class Peer {
  readonly role: string;
  readonly pid: number;
  private readonly child: ChildProcess;
  private nextId = 1;
  private readonly waiting = new Map<number, { resolve: (r: AgentReply) => void; reject: (e: Error) => void }>();
  private readonly sink: (o: Outcome) => void;
  private stderr = '';
  private exited = false;

  private constructor(role: string, child: ChildProcess, pid: number, sink: (o: Outcome) => void) {
    this.role = role;
    this.child = child;
    this.pid = pid;
    this.sink = sink;
  }

  /** Starts the socket program as `role` in `ns`; every outcome also goes to `sink`. */
  static async start(ns: NetNamespace, role: string, sink: (o: Outcome) => void): Promise<Peer> {
    const child = ns.spawn(process.execPath, [AGENT_PATH, role], { stdio: ['pipe', 'pipe', 'pipe'] });
    let peer: Peer | null = null;
    let buf = '';
    let errText = '';
    const ready = new Promise<number>((resolve, reject) => {
      child.stdout!.setEncoding('utf8');
      child.stdout!.on('data', (chunk: string) => {
        buf += chunk;
        for (let nl = buf.indexOf('\n'); nl >= 0; nl = buf.indexOf('\n')) {
          const line = buf.slice(0, nl);
          buf = buf.slice(nl + 1);
          const msg = JSON.parse(line) as { type: string; pid?: number; id: number; outcomes: AgentReply['outcomes']; error?: string };
          if (msg.type === 'ready') resolve(msg.pid!);
          else if (msg.type === 'reply') peer?.onReply(msg as AgentReply);
        }
      });
      child.stderr!.setEncoding('utf8');
      child.stderr!.on('data', (s: string) => {
        errText += s;
        if (peer !== null) peer.stderr += s;
      });
      child.once('error', reject);
      child.once('exit', (code, sig) => {
        if (peer !== null) peer.onExit(code, sig);
        reject(new TsleuthError('TSL_ERR_ENV', `the lab's socket program (${role}) exited before it was ready (${code ?? sig}): ${errText.trim()}`));
      });
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    try {
      const pid = await ready;
      peer = new Peer(role, child, pid, sink);
      return peer;
    } finally {
      clearTimeout(timer);
    }
  }

  private onReply(r: AgentReply): void {
    const w = this.waiting.get(r.id);
    if (w === undefined) return;
    this.waiting.delete(r.id);
    for (const o of r.outcomes) this.sink(o);
    if (r.error !== undefined) w.reject(new Error(`${this.role}: ${r.error}`));
    else w.resolve(r);
  }

  private onExit(code: number | null, sig: NodeJS.Signals | null): void {
    this.exited = true;
    for (const w of this.waiting.values()) w.reject(new Error(`${this.role} exited (${code ?? sig}) in the middle of a call: ${this.stderr.trim()}`));
    this.waiting.clear();
  }

  /** Sends one command; resolves with the outcome of its main call (the last one it made). */
  async call(op: string, args: Record<string, unknown> = {}): Promise<Outcome> {
    const all = await this.calls(op, args);
    const last = all[all.length - 1];
    if (last === undefined) throw new Error(`${this.role}: ${op} made no call`);
    return last;
  }

  /** Sends one command; resolves with every outcome it produced. */
  async calls(op: string, args: Record<string, unknown> = {}): Promise<Outcome[]> {
    if (this.exited) throw new Error(`${this.role} has exited`);
    const id = this.nextId++;
    const limit = (typeof args['timeoutMs'] === 'number' ? args['timeoutMs'] : 10_000) + 10_000;
    const reply = new Promise<AgentReply>((resolve, reject) => this.waiting.set(id, { resolve, reject }));
    this.child.stdin!.write(`${JSON.stringify({ id, op, ...args })}\n`);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${this.role}: ${op} got no answer within ${limit} ms`)), limit);
    });
    try {
      return (await Promise.race([reply, timeout])).outcomes;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Starts a command without waiting (a blocking recv the scenario answers later). */
  begin(op: string, args: Record<string, unknown> = {}): Promise<Outcome> {
    const p = this.call(op, args);
    p.catch(() => undefined);
    return p;
  }

  async kill(): Promise<void> {
    if (this.exited || this.child.exitCode !== null || this.child.signalCode !== null) return;
    const gone = once(this.child, 'exit');
    this.child.kill('SIGKILL');
    await gone;
  }
}
