/**
 * Buffered writes to stdout that respect back-pressure, and a quiet exit when the reader of a
 * pipe goes away (`tcpsleuth analyze --json big.pcap | head`).
 */
import { once } from 'node:events';

const FLUSH_AT = 1 << 16;

export class LineWriter {
  private buf: string[] = [];
  private size = 0;
  private readonly out: NodeJS.WritableStream;

  constructor(out: NodeJS.WritableStream = process.stdout) {
    this.out = out;
    out.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'EPIPE') process.exit(0);
      throw e;
    });
  }

  /** Queues a line without waiting; call flushIfFull() now and then. */
  push(s: string): void {
    this.buf.push(s);
    this.size += s.length + 1;
  }

  async flushIfFull(): Promise<void> {
    if (this.size >= FLUSH_AT) await this.flush();
  }

  async line(s: string): Promise<void> {
    this.push(s);
    await this.flushIfFull();
  }

  async flush(): Promise<void> {
    if (this.buf.length === 0) return;
    const text = `${this.buf.join('\n')}\n`;
    this.buf = [];
    this.size = 0;
    if (!this.out.write(text)) await once(this.out, 'drain');
  }
}
