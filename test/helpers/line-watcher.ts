/**
 * Watches a child's output stream line by line, so a test can await the line that announces an
 * event ("listening on ...", a scenario's "done", a printed packet) instead of sleeping.
 *
 * Every line is kept: a line that arrived before anyone waited for it still counts, and the
 * whole output goes into the error when the awaited line never comes.
 */
import type { Readable } from 'node:stream';
import { withTimeout } from './timeout.js';

interface Waiter {
  match: (line: string) => boolean;
  resolve: (line: string) => void;
  reject: (err: Error) => void;
}

export class LineWatcher {
  private readonly lines: string[] = [];
  private tail = '';
  private ended = false;
  private waiters: Waiter[] = [];

  constructor(
    stream: Readable,
    private readonly label: string,
  ) {
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => {
      const parts = (this.tail + chunk).split('\n');
      this.tail = parts.pop() ?? '';
      for (const line of parts) this.add(line);
    });
    stream.once('close', () => {
      if (this.tail !== '') this.add(this.tail);
      this.tail = '';
      this.ended = true;
      for (const waiter of this.waiters) {
        waiter.reject(new Error(`${this.label} ended without the awaited line; ${this.printed()}`));
      }
      this.waiters = [];
    });
  }

  /** Everything seen so far, one line per line. */
  get text(): string {
    return this.lines.join('\n');
  }

  /** Resolves with the first line (past or future) that matches; rejects on end of stream or timeout. */
  async waitFor(match: (line: string) => boolean, timeoutMs: number, what: string): Promise<string> {
    const seen = this.lines.find(match);
    if (seen !== undefined) return seen;
    if (this.ended) throw new Error(`${this.label} ended without ${what}; ${this.printed()}`);
    let waiter: Waiter | undefined;
    const found = new Promise<string>((resolve, reject) => {
      waiter = { match, resolve, reject };
      this.waiters.push(waiter);
    });
    try {
      return await withTimeout(found, timeoutMs, `${this.label}: no ${what}`);
    } finally {
      this.waiters = this.waiters.filter((w) => w !== waiter);
    }
  }

  private printed(): string {
    return this.lines.length === 0 ? 'it printed nothing' : `it printed:\n${this.text}`;
  }

  private add(line: string): void {
    this.lines.push(line);
    const matched = this.waiters.filter((w) => w.match(line));
    this.waiters = this.waiters.filter((w) => !w.match(line));
    for (const waiter of matched) waiter.resolve(line);
  }
}
