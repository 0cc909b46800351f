/**
 * What the chat tests share: a chat server as a real child process (the real CLI),
 * raw TCP clients that collect lines and say how their connection ended, and bounded waits.
 */
import { cliPath } from './paths.js';
import { spawn, type ChildProcess } from 'node:child_process';
import { connect, type Socket } from 'node:net';
import { LineFramer } from '../../src/chat/protocol.js';

/** The real CLI and its chat command: `node ...CHAT_CLI serve --port 0`. */
export const CHAT_CLI = [cliPath, 'chat'];

/** Resolves like `promise`, or rejects with `what` after `ms`. */
export async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${what} (waited ${ms} ms)`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

interface Waiter {
  match: (line: string) => boolean;
  resolve: (line: string) => void;
}

/** Lines of a stream (a socket or a child's output), kept, awaitable. */
export class LineLog {
  readonly lines: string[] = [];
  private waiters: Waiter[] = [];
  private closedWith: string | null = null;

  add(line: string): void {
    this.lines.push(line);
    const hit = this.waiters.filter((w) => w.match(line));
    this.waiters = this.waiters.filter((w) => !w.match(line));
    for (const w of hit) w.resolve(line);
  }

  close(why: string): void {
    this.closedWith = why;
  }

  /** The first line (past or future) that matches, within `ms`. */
  async wait(match: (line: string) => boolean, ms: number, what: string): Promise<string> {
    const seen = this.lines.find(match);
    if (seen !== undefined) return seen;
    let waiter: Waiter | undefined;
    const found = new Promise<string>((resolve) => {
      waiter = { match, resolve };
      this.waiters.push(waiter);
    });
    try {
      return await within(found, ms, what);
    } catch (e) {
      // The lines as they are at the timeout, not as they were when the wait began.
      throw new Error(`${(e as Error).message}; ${this.closedWith !== null ? `(stream ${this.closedWith}) ` : ''}last lines:\n${this.lines.slice(-15).join('\n')}`);
    } finally {
      this.waiters = this.waiters.filter((w) => w !== waiter);
    }
  }

  static ofStream(stream: NodeJS.ReadableStream): LineLog {
    const log = new LineLog();
    let tail = '';
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => {
      const parts = (tail + chunk).split('\n');
      tail = parts.pop() ?? '';
      for (const p of parts) log.add(p);
    });
    stream.on('close', () => {
      if (tail !== '') log.add(tail);
      log.close('closed');
    });
    return log;
  }
}

export interface ServerProcess {
  child: ChildProcess;
  port: number;
  /** stderr: the operational log. */
  log: LineLog;
  /** stdout: the transcript. */
  out: LineLog;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** SIGKILL if still running; waits for the exit. */
  kill(): Promise<void>;
}

/** Starts `chat serve --host 127.0.0.1 --port 0 --no-announce ...extra` and waits until it listens. */
export async function startServer(extra: string[] = []): Promise<ServerProcess> {
  const child = spawn(process.execPath, [...CHAT_CLI, 'serve', '--host', '127.0.0.1', '--port', '0', '--no-announce', ...extra], { stdio: ['pipe', 'pipe', 'pipe'] });
  return attachServer(child);
}

export async function attachServer(child: ChildProcess): Promise<ServerProcess> {
  const log = LineLog.ofStream(child.stderr!);
  const out = LineLog.ofStream(child.stdout!);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  const kill = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await within(exited, 5000, 'server did not exit after SIGKILL');
  };
  let line: string;
  try {
    line = await log.wait((l) => l.includes('listening on'), 10_000, 'chat server did not start listening');
  } catch (e) {
    await kill();
    throw e;
  }
  const port = Number(/:(\d+) as /.exec(line)?.[1]);
  return { child, port, log, out, exited, kill };
}

/** A raw TCP client, like nc: lines in, lines out, and how the connection ended. */
export class RawClient {
  readonly socket: Socket;
  readonly log = new LineLog();
  /** 'end' = FIN received; an errno code otherwise. Null while open. */
  endedWith: string | null = null;
  readonly closed: Promise<void>;
  readonly connected: Promise<void>;

  constructor(port: number, host = '127.0.0.1') {
    this.socket = connect({ host, port });
    this.connected = new Promise((resolve, reject) => {
      this.socket.once('connect', () => resolve());
      this.socket.once('error', reject);
    });
    const framer = new LineFramer(1 << 20, { line: (b) => this.log.add(b.toString('utf8')), overlong: () => this.log.add('<overlong>') });
    this.socket.on('data', (chunk: Buffer) => framer.push(chunk));
    this.socket.on('end', () => {
      this.endedWith ??= 'end';
    });
    this.socket.on('error', (e: NodeJS.ErrnoException) => {
      this.endedWith = e.code ?? e.message;
    });
    this.closed = new Promise((resolve) => this.socket.once('close', () => resolve()));
  }

  get lines(): string[] {
    return this.log.lines;
  }

  send(text: string | Buffer): void {
    this.socket.write(typeof text === 'string' ? `${text}\n` : text);
  }

  wait(match: (line: string) => boolean, what: string, ms = 5000): Promise<string> {
    return this.log.wait(match, ms, what);
  }

  /** Connects, takes a nickname and waits until the server confirms it. */
  static async join(port: number, nick: string): Promise<RawClient> {
    const c = new RawClient(port);
    await within(c.connected, 5000, `${nick} could not connect`);
    c.send(`/nick ${nick}`);
    await c.wait((l) => l === `*** you are now known as ${nick}`, `${nick}'s nickname`);
    return c;
  }

  destroy(): void {
    this.socket.destroy();
  }
}
