/**
 * Buffered line output to stdout: lines are encoded straight into a 1 MiB buffer that is
 * written whole, respecting back-pressure; and a quiet exit when the reader of a pipe goes
 * away (`tcpsleuth analyze --json big.pcap | head`), and a one-line error with exit status 2
 * when the output cannot be written (a full disk).
 */
import { once } from 'node:events';
import type { Writable } from 'node:stream';
import { EXIT } from './exit-codes.js';

const BUFFER_SIZE = 1 << 20;

const guarded = new WeakSet<Writable>();

/**
 * How every command ends when its output fails: quietly with status 0 when the reader of a pipe
 * went away (`| head`), else with one line on stderr and status 2 (a full disk: nothing more can
 * be reported). Once per stream.
 */
export function guardOutput(out: Writable): void {
  if (guarded.has(out)) return;
  guarded.add(out);
  out.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(EXIT.OK);
    const why = e.code === 'ENOSPC' ? 'no space left on the device' : e.code === 'EIO' ? 'I/O error' : (e.code ?? e.message);
    process.stderr.write(`tcpsleuth: cannot write the output: ${why}\n`);
    process.exit(EXIT.UNREADABLE);
  });
}

export class LineWriter {
  private buf = Buffer.allocUnsafe(BUFFER_SIZE);
  private used = 0;
  private readonly out: Writable;

  constructor(out: Writable = process.stdout) {
    this.out = out;
    guardOutput(out);
  }

  /** Queues a line without waiting; call flushIfFull() now and then. */
  push(s: string): void {
    // A UTF-8 character takes at most 3 bytes per UTF-16 unit.
    this.makeRoom(s.length * 3 + 1);
    this.used += this.buf.write(s, this.used);
    this.buf[this.used++] = 0x0a;
  }

  /**
   * Hands over whole lines encoded elsewhere (a JsonEncoder's bytes, newlines included), after
   * what is queued, without copying them: the caller gives the buffer up, and gets it back
   * through `written` once the stream is done with it.
   */
  pushChunk(chunk: Buffer, written?: (chunk: Buffer) => void): void {
    this.writeOut();
    if (chunk.length === 0) return;
    if (written === undefined) this.out.write(chunk);
    else this.out.write(chunk, () => written(chunk));
  }

  /** Hands the buffer out if `n` more bytes would not fit (and grows it for one huge line). */
  private makeRoom(n: number): void {
    if (this.used + n <= this.buf.length) return;
    this.writeOut();
    if (n > this.buf.length) this.buf = Buffer.allocUnsafe(n);
  }

  async flushIfFull(): Promise<void> {
    if (this.used > BUFFER_SIZE / 2 || this.out.writableNeedDrain) await this.flush();
  }

  async line(s: string): Promise<void> {
    this.push(s);
    await this.flushIfFull();
  }

  /** Writes what is queued and waits until the stream has taken everything it was given. */
  async flush(): Promise<void> {
    this.writeOut();
    if (this.out.writableNeedDrain) await once(this.out, 'drain');
  }

  /** Hands the filled part to the stream (a fresh buffer takes its place). */
  private writeOut(): void {
    if (this.used === 0) return;
    const chunk = this.buf.subarray(0, this.used);
    this.buf = Buffer.allocUnsafe(BUFFER_SIZE);
    this.used = 0;
    this.out.write(chunk);
  }
}
