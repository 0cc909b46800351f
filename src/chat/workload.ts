/**
 * The lab's realistic workload: a chat server and scripted clients, each a real process, on
 * loopback or inside a network namespace, driven through conversations that end in each
 * failure tcpsleuth diagnoses:
 *   normalChat()        a few users talk, then leave with /quit (FIN both ways)
 *   killMidMessage()    a user is SIGKILLed half-way through typing a line; with unread data in
 *                       its receive buffer its kernel answers with RST (the server sees
 *                       ECONNRESET), without it sends FIN
 *   frozenReader()      a user's process is stopped (SIGSTOP): its receive window fills and goes
 *                       to zero, the server's queue for it fills, and it is evicted while the
 *                       others keep receiving everything
 * Captures and kernel traces taken meanwhile are the lab's ground truth; each scenario returns
 * what the applications saw, to compare with what tcpsleuth infers.
 */
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import type { EndReason } from './disconnect.js';

/** Where processes run: a namespace from src/lab/netns.ts, or (undefined) this host. */
export interface ProcessHost {
  readonly name: string;
  spawn(command: string, args: string[], options?: SpawnOptions): ChildProcess;
}

export interface ChatWorkloadOptions {
  /** Run the server and the clients inside this namespace. Default: on this host. */
  netns?: ProcessHost;
  /** Address the server binds and the clients connect to. Default 127.0.0.1. */
  host?: string;
  /** Server port; default 0 (any free port, read back from the server's log). */
  port?: number;
  /** Extra `chat serve` flags, e.g. ["--queue-bytes", "65536"]. */
  serverArgs?: string[];
  /**
   * Command that runs `tcpsleuth chat` (the arguments "serve ..." follow it).
   * Default: this Node binary with the built CLI (dist/src/cli/main.js chat).
   */
  chatCommand?: string[];
  /** Default 10 s: how long any single step may take. */
  stepTimeoutMs?: number;
}

const CLI_MAIN = fileURLToPath(new URL('../cli/main.js', import.meta.url));
const SCRIPTED_CLIENT = fileURLToPath(new URL('./scripted-client.js', import.meta.url));

type Waiter<T> = { match: (item: T) => boolean; resolve: (item: T) => void };

/** Items arriving over time (log lines, client events); callers await one that matches, bounded in time. */
class Feed<T> {
  readonly all: T[] = [];
  private waiters: Waiter<T>[] = [];
  private closed = false;

  push(item: T): void {
    this.all.push(item);
    for (const w of this.waiters.filter((x) => x.match(item))) {
      this.waiters.splice(this.waiters.indexOf(w), 1);
      w.resolve(item);
    }
  }

  close(): void {
    this.closed = true;
  }

  /** The first item at index ≥ `from` (past or future) that matches. */
  async wait(match: (item: T) => boolean, timeoutMs: number, what: string, from = 0): Promise<T> {
    for (let i = from; i < this.all.length; i++) if (match(this.all[i]!)) return this.all[i]!;
    if (this.closed) throw new Error(`${what}: the stream ended; it had:\n${this.tail()}`);
    return new Promise<T>((resolve, reject) => {
      const w: Waiter<T> = {
        match,
        resolve: (item) => {
          clearTimeout(t);
          resolve(item);
        },
      };
      const t = setTimeout(() => {
        this.waiters.splice(this.waiters.indexOf(w), 1);
        reject(new Error(`${what}: not seen within ${timeoutMs} ms; last items:\n${this.tail()}`));
      }, timeoutMs);
      this.waiters.push(w);
    });
  }

  private tail(): string {
    return this.all
      .slice(-20)
      .map((x) => (typeof x === 'string' ? x : JSON.stringify(x)))
      .join('\n');
  }
}

function feedLines(stream: NodeJS.ReadableStream): Feed<string> {
  const feed = new Feed<string>();
  const rl = createInterface({ input: stream, terminal: false });
  rl.on('line', (l) => feed.push(l));
  rl.on('close', () => feed.close());
  return feed;
}

/** What a scripted client reports (see scripted-client.ts). */
export interface ClientEvent {
  event: 'connected' | 'line' | 'overlong' | 'done' | 'end';
  text?: string;
  local?: string;
  reason?: EndReason;
  code?: string;
  n?: number;
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((r) => child.once('exit', () => r()));
}

/** One scripted user, as its own process. */
export class ScriptedClient {
  readonly events = new Feed<ClientEvent>();
  private commands = 0;

  constructor(
    readonly nick: string,
    readonly child: ChildProcess,
    private readonly timeoutMs: number,
  ) {
    const rl = createInterface({ input: child.stdout!, terminal: false });
    rl.on('line', (l) => {
      try {
        this.events.push(JSON.parse(l) as ClientEvent);
      } catch {
        // not ours
      }
    });
    rl.on('close', () => this.events.close());
    child.stdin!.on('error', () => undefined);
  }

  /** Server lines received so far (sanitised). */
  get lines(): string[] {
    return this.events.all.flatMap((e) => (e.event === 'line' && e.text !== undefined ? [e.text] : []));
  }

  async connected(): Promise<string> {
    const e = await this.events.wait((x) => x.event === 'connected', this.timeoutMs, `${this.nick} connected`);
    return e.local ?? '';
  }

  /** Resolves with the first server line at event index ≥ `from` (past or future) that matches. */
  async waitForLine(match: (line: string) => boolean, what: string, from = 0): Promise<string> {
    const e = await this.events.wait((x) => x.event === 'line' && match(x.text ?? ''), this.timeoutMs, `${this.nick}: ${what}`, from);
    return e.text ?? '';
  }

  /** How the connection ended, as this client's socket saw it. */
  async end(): Promise<{ reason: EndReason; code?: string }> {
    const e = await this.events.wait((x) => x.event === 'end', this.timeoutMs, `${this.nick} end`);
    return e.code === undefined ? { reason: e.reason ?? 'closed' } : { reason: e.reason ?? 'error', code: e.code };
  }

  /** Resolves once every command sent so far has been handed to the client's kernel. */
  async flushed(): Promise<void> {
    const n = this.commands;
    await this.events.wait((x) => x.event === 'done' && (x.n ?? 0) >= n, this.timeoutMs, `${this.nick} command ${n} done`);
  }

  private command(o: Record<string, unknown>): void {
    this.commands++;
    this.child.stdin!.write(`${JSON.stringify(o)}\n`);
  }

  say(text: string): void {
    this.command({ say: text });
  }

  /** Sends the start of a line without its newline: a message cut off mid-way. */
  sayPartial(text: string): void {
    this.command({ raw: text });
  }

  quit(message = ''): void {
    this.command({ quit: message });
  }

  /** SIGSTOP: the process stops reading; its receive window fills and goes to zero. */
  freeze(): void {
    this.child.kill('SIGSTOP');
  }

  thaw(): void {
    this.child.kill('SIGCONT');
  }

  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    this.child.kill(signal);
    await exited(this.child);
  }
}

export interface KillResult {
  /** The victim's local address:port. */
  victim: string;
  /** What the victim's kernel had to send, given whether unread data was waiting. */
  expected: 'RST' | 'FIN';
  /** How the server saw the connection end. */
  serverSaw: EndReason;
  /** The server's log line about it. */
  logLine: string;
}

export interface FrozenResult {
  /** The frozen client's local address:port. */
  frozen: string;
  /** Lines the sender sent before the eviction. */
  linesSent: number;
  /** True if every other client received every line, in order. */
  othersComplete: boolean;
  /** The server's log line about the eviction. */
  logLine: string;
}

export class ChatWorkload {
  readonly serverLog: Feed<string>;
  readonly clients: ScriptedClient[] = [];
  private stopped = false;

  private constructor(
    readonly host: string,
    readonly port: number,
    readonly server: ChildProcess,
    logLines: Feed<string>,
    private readonly opts: ChatWorkloadOptions,
  ) {
    this.serverLog = logLines;
  }

  /** Starts the server process and waits until it listens. */
  static async start(options: ChatWorkloadOptions = {}): Promise<ChatWorkload> {
    const host = options.host ?? '127.0.0.1';
    const timeoutMs = options.stepTimeoutMs ?? 10_000;
    const chat = options.chatCommand ?? [process.execPath, CLI_MAIN, 'chat'];
    // No flood limit unless asked for: the scenarios send fast on purpose. Later flags win.
    const args = [...chat.slice(1), 'serve', '--host', host, '--port', String(options.port ?? 0), '--no-announce', '--quiet', '--flood-limit', '0', ...(options.serverArgs ?? [])];
    const stdio: SpawnOptions = { stdio: ['pipe', 'pipe', 'pipe'] };
    const server = options.netns !== undefined ? options.netns.spawn(chat[0]!, args, stdio) : spawn(chat[0]!, args, stdio);
    server.stdout!.resume();
    const log = feedLines(server.stderr!);
    let line: string;
    try {
      line = await log.wait((l) => l.includes('listening on'), timeoutMs, 'chat server listening');
    } catch (e) {
      server.kill('SIGKILL');
      throw e;
    }
    const port = Number(/:(\d+) as /.exec(line)?.[1]);
    return new ChatWorkload(host, port, server, log, options);
  }

  private get timeoutMs(): number {
    return this.opts.stepTimeoutMs ?? 10_000;
  }

  /** Starts a scripted client process and waits until it is connected and has its nickname. */
  async client(nick: string): Promise<ScriptedClient> {
    const args = [SCRIPTED_CLIENT, this.host, String(this.port), nick];
    const stdio: SpawnOptions = { stdio: ['pipe', 'pipe', 'inherit'] };
    const child = this.opts.netns !== undefined ? this.opts.netns.spawn(process.execPath, args, stdio) : spawn(process.execPath, args, stdio);
    const c = new ScriptedClient(nick, child, this.timeoutMs);
    this.clients.push(c);
    await c.connected();
    await c.waitForLine((l) => l === `*** you are now known as ${nick}`, 'its nickname');
    return c;
  }

  /** Resolves with the first server log line (past or future) that matches. */
  waitForLog(match: (line: string) => boolean, what: string): Promise<string> {
    return this.serverLog.wait(match, this.timeoutMs, what);
  }

  /** A few users each say a few lines; everyone hears everyone else; then they /quit. */
  async normalChat(nicks: string[] = ['alice', 'bob', 'carol'], rounds = 3): Promise<{ lines: number }> {
    const cs: ScriptedClient[] = [];
    for (const n of nicks) cs.push(await this.client(n));
    let lines = 0;
    for (let r = 0; r < rounds; r++) {
      for (const c of cs) {
        const text = `round ${r} from ${c.nick}`;
        c.say(text);
        lines++;
        for (const other of cs) if (other !== c) await other.waitForLine((l) => l === `<${c.nick}> ${text}`, `"${text}"`);
      }
    }
    for (const c of cs) c.quit('bye');
    await Promise.all(cs.map((c) => c.end()));
    return { lines };
  }

  /**
   * A user starts a line and is SIGKILLed before finishing it. With `unreadData` the victim is
   * first frozen and sent a message it never reads, so its kernel must answer the close with RST.
   */
  async killMidMessage(options: { unreadData?: boolean } = {}): Promise<KillResult> {
    const unread = options.unreadData ?? true;
    const victim = await this.client(`victim${this.clients.length}`);
    const witness = await this.client(`witness${this.clients.length}`);
    const local = await victim.connected();
    victim.sayPartial('I was just about to say');
    await victim.flushed();
    if (unread) {
      victim.freeze();
      witness.say('are you still there?');
      // The witness's line is now in the victim's receive queue, unread; the server only relays
      // it, so wait until the server has written it (it has once another reader got it).
      const reader = await this.client(`reader${this.clients.length}`);
      witness.say('ping for the reader');
      await reader.waitForLine((l) => l === `<${witness.nick}> ping for the reader`, 'relay done');
    }
    await victim.kill('SIGKILL');
    const logLine = await this.waitForLog((l) => l.includes(`${victim.nick} (`) && l.includes('left:'), 'the server logging the victim leaving');
    const serverSaw: EndReason = logLine.includes('ECONNRESET') ? 'reset' : logLine.includes('(FIN)') ? 'closed' : logLine.includes('EPIPE') ? 'broken-pipe' : 'error';
    return { victim: local, expected: unread ? 'RST' : 'FIN', serverSaw, logLine };
  }

  /**
   * A user's process is stopped while another sends until the server evicts the stopped one;
   * checks that a third user received every line in order meanwhile.
   */
  async frozenReader(options: { lineBytes?: number; maxLines?: number } = {}): Promise<FrozenResult> {
    const lineBytes = options.lineBytes ?? 1000;
    const maxLines = options.maxLines ?? 100_000;
    const frozen = await this.client(`frozen${this.clients.length}`);
    const sender = await this.client(`sender${this.clients.length}`);
    const listener = await this.client(`listener${this.clients.length}`);
    const local = await frozen.connected();
    frozen.freeze();
    const evicted = this.waitForLog((l) => l.includes(`${frozen.nick} (`) && l.includes('not reading'), 'the eviction');
    let gone = false;
    void evicted.then(() => (gone = true), () => undefined);
    const pad = 'x'.repeat(Math.max(0, lineBytes - 12));
    let sent = 0;
    // Send in steps of 200 lines, each awaited at the listener, until the server gives up on
    // the frozen one (the workload's server runs without a flood limit).
    while (!gone && sent < maxLines) {
      const from = listener.events.all.length;
      for (let i = 0; i < 200; i++) sender.say(`${String(sent++).padStart(10, '0')} ${pad}`);
      const last = `${String(sent - 1).padStart(10, '0')} ${pad}`;
      await listener.waitForLine((l) => l === `<${sender.nick}> ${last}`, `line ${sent - 1}`, from);
    }
    const logLine = await evicted;
    const got = listener.lines.filter((l) => l.startsWith(`<${sender.nick}> `)).map((l) => Number(l.slice(sender.nick.length + 3, sender.nick.length + 13)));
    const othersComplete = got.length === sent && got.every((n, i) => n === i);
    frozen.thaw();
    return { frozen: local, linesSent: sent, othersComplete, logLine };
  }

  /** SIGTERM to the server (it sends every client a notice and FIN), then ends every client. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    for (const c of this.clients) c.child.kill('SIGCONT');
    this.server.kill('SIGTERM');
    const deadline = setTimeout(() => this.server.kill('SIGKILL'), this.timeoutMs);
    await exited(this.server);
    clearTimeout(deadline);
    for (const c of this.clients) {
      c.child.stdin?.end();
      const t = setTimeout(() => c.child.kill('SIGKILL'), 2000);
      await exited(c.child);
      clearTimeout(t);
    }
  }
}
