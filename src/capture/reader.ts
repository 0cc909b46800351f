/**
 * Opens a capture (a path, "-" for standard input, or any byte stream), recognises its format
 * from the first bytes (pcap, pcapng, either gzip-compressed), and pushes its frames to a sink.
 *
 * `read()` is an async generator that yields once per chunk after that chunk's frames were
 * delivered, so a consumer can drain its own output between chunks: memory stays bounded by
 * the chunk size whatever the size of the file.
 */
import { promises as fsp, read as fsRead } from 'node:fs';
import { TsleuthError } from '../errors.js';
import { gunzip } from './gzip.js';
import type { CaptureInfo, CaptureParser, FrameSink } from './frame.js';
import { isPcapMagic, PcapParser } from './pcap.js';
import { isPcapngMagic, PcapngParser } from './pcapng.js';

export type CaptureInput = string | AsyncIterable<Buffer>;

/** Read size: large enough that per-chunk costs vanish, small enough to stay in cache-friendly territory. */
const CHUNK_SIZE = 4 << 20;
const GZIP_MAGIC = 0x1f8b;

export interface ReadProgress {
  /** Bytes read from the source (compressed bytes for a gzip file). */
  sourceBytes: number;
  /** Size of the source when it is a regular file, else undefined. */
  sourceSize: number | undefined;
}

export class CaptureReader {
  readonly name: string;
  readonly progress: ReadProgress = { sourceBytes: 0, sourceSize: undefined };
  private parser: CaptureParser | null = null;
  private readonly earlyFaults = new Map<string, number>();
  /** Ends the pull that is waiting, when the signal is aborted. */
  private onAbort: (() => void) | null = null;
  /** Set when read() stopped early because the signal was aborted. */
  interrupted = false;
  private readonly input: CaptureInput;
  private readonly sink: FrameSink;
  private readonly signal: AbortSignal | undefined;

  /** Bytes per read from a file, pipe or standard input. */
  private readonly chunkSize: number;

  /**
   * `signal`: when aborted, read() stops at once, between chunks (what came before is complete).
   * `chunkSize`: a small one for a reader that wants only the first frames (capture-order.ts).
   */
  constructor(input: CaptureInput, sink: FrameSink, name?: string, signal?: AbortSignal, chunkSize: number = CHUNK_SIZE) {
    this.chunkSize = chunkSize;
    this.input = input;
    this.sink = sink;
    this.signal = signal;
    this.name = name ?? (typeof input === 'string' ? (input === '-' ? '<stdin>' : input) : '<stream>');
  }

  /** What the parser learned so far (complete once read() has finished or thrown). */
  get info(): CaptureInfo | null {
    return this.parser?.info ?? null;
  }

  async *read(): AsyncGenerator<void> {
    const raw = await this.openSource();
    // One listener for the whole read: it wakes whichever pull is waiting (a race per chunk would
    // leave a reaction on the signal's promise for every chunk of a live capture that runs for days).
    const wake = (): void => this.onAbort?.();
    this.signal?.addEventListener('abort', wake, { once: true });
    // The iterators opened here, outermost last: let go of on the way out, however that is
    // (the end, an error, Ctrl-C, a consumer that stops early), so the file is closed.
    const opened: AsyncIterator<Buffer>[] = [raw[Symbol.asyncIterator]()];
    try {
      const it = opened[0]!;
      // Collect the first bytes: 4 decide between gzip, pcap and pcapng.
      let sniffed = await this.sniff(it);
      if (sniffed === null) return;
      let chunks: AsyncIterable<Buffer> = prepend(sniffed, { [Symbol.asyncIterator]: () => it });
      let compressed = false;
      if (sniffed.length >= 2 && sniffed.readUInt16BE(0) === GZIP_MAGIC) {
        compressed = true;
        const dit = gunzip(chunks, this.name, { trailingGarbage: () => this.noteFault('gzip_trailing_garbage') })[Symbol.asyncIterator]();
        opened.push(dit);
        sniffed = await this.sniff(dit);
        if (sniffed === null) return;
        chunks = prepend(sniffed, { [Symbol.asyncIterator]: () => dit });
      }
      if (sniffed.length < 4) {
        throw new TsleuthError('TSL_ERR_NOT_A_CAPTURE', sniffed.length === 0 ? 'the capture is empty' : 'the capture is too short to be a pcap or pcapng file', {
          file: this.name,
          offset: 0,
        });
      }
      this.parser = this.makeParser(sniffed, compressed);
      const parser = this.parser;
      for (const [reason, n] of this.earlyFaults) parser.info.faults.set(reason, n);
      const source = chunks[Symbol.asyncIterator]();
      for (;;) {
        let r: IteratorResult<Buffer> | null;
        try {
          r = await this.pull(source);
        } catch (e) {
          // A fault of the compression: name the frame it cut into, as the parsers do for theirs.
          if (e instanceof TsleuthError && e.context.frame === undefined) e.context.frame = parser.info.frames + 1;
          throw e;
        }
        if (r === null) return;
        if (r.done === true) break;
        parser.push(r.value);
        yield;
      }
      parser.end();
    } finally {
      this.signal?.removeEventListener('abort', wake);
      // Not awaited: after Ctrl-C a read of a quiet pipe may still be pending under them.
      for (const x of opened.reverse()) x.return?.().catch(() => undefined);
    }
  }

  /** The source's first bytes (at least 4 unless it ends sooner); null if interrupted. */
  private async sniff(it: AsyncIterator<Buffer>): Promise<Buffer | null> {
    let head: Buffer = Buffer.alloc(0);
    while (head.length < 4) {
      const r = await this.pull(it);
      if (r === null) return null;
      if (r.done === true) break;
      head = Buffer.concat([head, r.value]);
    }
    return head;
  }

  /**
   * The source's next chunk, or null once the signal is aborted: a read from a quiet pipe can
   * wait forever, and Ctrl-C must not wait for it. The source is then let go of: closed once its
   * pending read is done (a read from a quiet pipe still holds libuv's loop: the CLI exits).
   */
  private async pull(it: AsyncIterator<Buffer>): Promise<IteratorResult<Buffer> | null> {
    const next = it.next();
    const r =
      this.signal === undefined
        ? await next
        : await new Promise<IteratorResult<Buffer> | typeof ABORTED>((resolve, reject) => {
            this.onAbort = () => resolve(ABORTED);
            if (this.signal!.aborted) resolve(ABORTED);
            next.then(resolve, reject);
          }).finally(() => (this.onAbort = null));
    if (r !== ABORTED && this.signal?.aborted !== true) return r;
    this.interrupted = true;
    next.catch(() => undefined);
    it.return?.().catch(() => undefined);
    return null;
  }

  /**
   * A non-fatal fault of the file outside the capture format, counted with the parser's
   * (summary.capture_faults); one noticed before the parser exists (a small gzip file is read
   * whole while its format is sniffed) waits for it.
   */
  private noteFault(reason: string): void {
    const faults = this.parser?.info.faults ?? this.earlyFaults;
    faults.set(reason, (faults.get(reason) ?? 0) + 1);
  }

  private makeParser(head: Buffer, compressed: boolean): CaptureParser {
    if (isPcapMagic(head)) return new PcapParser(this.sink, this.name, compressed);
    if (isPcapngMagic(head)) return new PcapngParser(this.sink, this.name, compressed);
    const text = head.subarray(0, 4).every((b) => b === 9 || b === 10 || b === 13 || (b >= 32 && b < 127));
    throw new TsleuthError(
      'TSL_ERR_NOT_A_CAPTURE',
      `not a pcap or pcapng file (starts with 0x${head.subarray(0, 4).toString('hex')}${text ? ', looks like text' : ''})`,
      { file: this.name, offset: 0 },
    );
  }

  private async openSource(): Promise<AsyncIterable<Buffer>> {
    const counted = (src: AsyncIterable<Buffer>): AsyncIterable<Buffer> => countBytes(src, this.progress);
    if (typeof this.input !== 'string') return counted(this.input);
    if (this.input === '-') return counted(rethrowIo(readStdin(this.chunkSize), this.name));
    try {
      const st = await fsp.stat(this.input);
      if (st.isDirectory()) throw new TsleuthError('TSL_ERR_IO', 'is a directory, not a capture file', { file: this.name });
      if (st.isFile()) this.progress.sourceSize = st.size;
    } catch (e) {
      if (e instanceof TsleuthError) throw e;
      throw ioError(e, this.name);
    }
    // Files, pipes and devices alike (`<(tcpdump -w -)`, /dev/stdin) are read by position-less reads.
    const fh = await fsp.open(this.input, 'r').catch((e: unknown) => {
      throw ioError(e, this.name);
    });
    return counted(rethrowIo(readInTurns((b) => fh.read(b, 0, b.length, null).then((r) => r.bytesRead), () => fh.close(), this.chunkSize), this.name));
  }
}

/**
 * Reads a source into three buffers used in turn, always one read ahead: the kernel copies the
 * next chunk (on libuv's thread pool) while the parser works on this one, and a parser's
 * leftover tail of the previous chunk stays intact in the third buffer. Nothing is allocated per
 * chunk: a stream's fresh buffer per chunk is garbage the collector, with so little else
 * allocated, frees too late — reading 1.4 GB from a pipe that way held 1.5 GB.
 */
async function* readInTurns(read: (into: Buffer) => Promise<number>, close: () => Promise<void>, chunkSize: number): AsyncGenerator<Buffer> {
  const buffers = [Buffer.allocUnsafe(chunkSize), Buffer.allocUnsafe(chunkSize), Buffer.allocUnsafe(chunkSize)];
  // A read ahead that fails while nobody awaits it (the consumer stopped) must not become an
  // unhandled rejection: each gets a handler at once, and is still awaited where it is used.
  const start = (into: Buffer): Promise<number> => {
    const p = read(into);
    p.catch(() => undefined);
    return p;
  };
  let ahead = start(buffers[0]!);
  try {
    for (let turn = 0; ; turn = (turn + 1) % 3) {
      const bytesRead = await ahead;
      if (bytesRead === 0) return;
      ahead = start(buffers[(turn + 1) % 3]!);
      yield buffers[turn]!.subarray(0, bytesRead);
    }
  } finally {
    // Let an outstanding read finish before closing the handle under it.
    await ahead.catch(() => undefined);
    await close();
  }
}

/**
 * Standard input, read in turns from file descriptor 0 (which is left open). A descriptor that
 * another program set non-blocking answers EAGAIN: then it is read as Node's stream instead.
 */
async function* readStdin(chunkSize: number): AsyncGenerator<Buffer> {
  const read = (into: Buffer): Promise<number> =>
    new Promise((resolve, reject) => fsRead(0, into, 0, into.length, null, (e, n) => (e ? reject(e) : resolve(n))));
  try {
    yield* readInTurns(read, async () => undefined, chunkSize);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EAGAIN') throw e;
    yield* process.stdin as AsyncIterable<Buffer>;
  }
}

const ABORTED = Symbol('aborted');

function ioError(e: unknown, file: string): TsleuthError {
  const err = e as NodeJS.ErrnoException;
  const why =
    err.code === 'ENOENT' ? 'no such file' : err.code === 'EACCES' ? 'permission denied' : err.code === 'EISDIR' ? 'is a directory' : (err.message ?? String(e));
  return new TsleuthError('TSL_ERR_IO', `cannot read the capture: ${why}`, { file });
}

async function* rethrowIo(src: AsyncIterable<Buffer>, file: string): AsyncGenerator<Buffer> {
  try {
    yield* src;
  } catch (e) {
    throw ioError(e, file);
  }
}

async function* countBytes(src: AsyncIterable<Buffer>, progress: ReadProgress): AsyncGenerator<Buffer> {
  for await (const c of src) {
    progress.sourceBytes += c.length;
    yield c;
  }
}

async function* prepend(head: Buffer, rest: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
  if (head.length > 0) yield head;
  yield* rest;
}
