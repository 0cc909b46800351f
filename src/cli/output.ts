/**
 * Buffered line output to stdout: lines are encoded straight into a 1 MiB buffer that is
 * written whole, respecting back-pressure; and a quiet exit when the reader of a pipe goes
 * away (`tcpsleuth analyze --json big.pcap | head`).
 */
import { once } from 'node:events';

const BUFFER_SIZE = 1 << 20;

export class LineWriter {
  private buf = Buffer.allocUnsafe(BUFFER_SIZE);
  private used = 0;
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
    // A UTF-8 character takes at most 3 bytes per UTF-16 unit.
    this.makeRoom(s.length * 3 + 1);
    this.used += this.buf.write(s, this.used);
    this.buf[this.used++] = 0x0a;
  }

  /** Queues a line already encoded as UTF-8 (without its newline). */
  pushBytes(b: Buffer): void {
    this.makeRoom(b.length + 1);
    this.used += b.copy(this.buf, this.used);
    this.buf[this.used++] = 0x0a;
  }

  /** Hands the buffer out if `n` more bytes would not fit (and grows it for one huge line). */
  private makeRoom(n: number): void {
    if (this.used + n <= this.buf.length) return;
    this.writeOut();
    if (n > this.buf.length) this.buf = Buffer.allocUnsafe(n);
  }

  async flushIfFull(): Promise<void> {
    if (this.used > BUFFER_SIZE / 2) await this.flush();
  }

  async line(s: string): Promise<void> {
    this.push(s);
    await this.flushIfFull();
  }

  async flush(): Promise<void> {
    if (this.writeOut()) return;
    await once(this.out, 'drain');
  }

  /** Hands the filled part to the stream (a fresh buffer takes its place); false if the stream asks us to wait. */
  private writeOut(): boolean {
    if (this.used === 0) return true;
    const chunk = this.buf.subarray(0, this.used);
    this.buf = Buffer.allocUnsafe(BUFFER_SIZE);
    this.used = 0;
    return this.out.write(chunk);
  }
}
