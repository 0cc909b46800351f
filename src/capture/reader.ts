/**
 * Opens a capture (a path, "-" for standard input, or any byte stream), recognises its format
 * from the first bytes (pcap, pcapng, either gzip-compressed), and pushes its frames to a sink.
 *
 * `read()` is an async generator that yields once per chunk after that chunk's frames were
 * delivered, so a consumer can drain its own output between chunks: memory stays bounded by
 * the chunk size whatever the size of the file.
 */
import { createReadStream, promises as fsp } from 'node:fs';
import { once } from 'node:events';
import { createGunzip } from 'node:zlib';
import { TsleuthError } from '../errors.js';
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
  /** Set when read() stopped early because the signal was aborted. */
  interrupted = false;
  private readonly input: CaptureInput;
  private readonly sink: FrameSink;
  private readonly signal: AbortSignal | undefined;

  /** `signal`: when aborted, read() stops at once, between chunks (what came before is complete). */
  constructor(input: CaptureInput, sink: FrameSink, name?: string, signal?: AbortSignal) {
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
    const stopped = this.signal === undefined ? null : whenAborted(this.signal);
    const it = raw[Symbol.asyncIterator]();
    // Collect the first bytes: 4 decide between gzip, pcap and pcapng.
    let sniffed = await this.sniff(it, stopped);
    if (sniffed === null) return;
    let chunks: AsyncIterable<Buffer> = prepend(sniffed, { [Symbol.asyncIterator]: () => it });
    let compressed = false;
    if (sniffed.length >= 2 && sniffed.readUInt16BE(0) === GZIP_MAGIC) {
      compressed = true;
      const dit = gunzip(chunks, this.name)[Symbol.asyncIterator]();
      sniffed = await this.sniff(dit, stopped);
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
    const source = chunks[Symbol.asyncIterator]();
    for (;;) {
      const r = await this.pull(source, stopped);
      if (r === null) return;
      if (r.done === true) break;
      parser.push(r.value);
      yield;
    }
    parser.end();
  }

  /** The source's first bytes (at least 4 unless it ends sooner); null if interrupted. */
  private async sniff(it: AsyncIterator<Buffer>, stopped: Promise<typeof ABORTED> | null): Promise<Buffer | null> {
    let head: Buffer = Buffer.alloc(0);
    while (head.length < 4) {
      const r = await this.pull(it, stopped);
      if (r === null) return null;
      if (r.done === true) break;
      head = Buffer.concat([head, r.value]);
    }
    return head;
  }

  /**
   * The source's next chunk, or null once the signal is aborted: a read from a quiet pipe can
   * wait forever, and Ctrl-C must not wait for it. The source is then let go of: standard input
   * is destroyed (its pending read would keep the process alive), anything else is closed once
   * its pending read is done.
   */
  private async pull(it: AsyncIterator<Buffer>, stopped: Promise<typeof ABORTED> | null): Promise<IteratorResult<Buffer> | null> {
    const next = it.next();
    const r = stopped === null ? await next : await Promise.race([next, stopped]);
    if (r !== ABORTED && this.signal?.aborted !== true) return r;
    this.interrupted = true;
    next.catch(() => undefined);
    if (this.input === '-') process.stdin.destroy();
    it.return?.().catch(() => undefined);
    return null;
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
    if (this.input === '-') return counted(process.stdin as AsyncIterable<Buffer>);
    let regular = false;
    try {
      const st = await fsp.stat(this.input);
      if (st.isDirectory()) throw new TsleuthError('TSL_ERR_IO', 'is a directory, not a capture file', { file: this.name });
      regular = st.isFile();
      if (regular) this.progress.sourceSize = st.size;
    } catch (e) {
      if (e instanceof TsleuthError) throw e;
      throw ioError(e, this.name);
    }
    // Plain capture files are read into buffers used in turn (no allocation per chunk). zlib may
    // still hold on to its input, so a gzip file gets fresh buffers from a stream; so does a
    // pipe or device (`<(tcpdump -w -)`, /dev/stdin), whose first bytes cannot be peeked at.
    const inTurns = regular && !(await startsWithGzipMagic(this.input));
    const stream = inTurns ? readInTurns(this.input) : createReadStream(this.input, { highWaterMark: CHUNK_SIZE });
    return counted(rethrowIo(stream as AsyncIterable<Buffer>, this.name));
  }
}

async function startsWithGzipMagic(path: string): Promise<boolean> {
  const fh = await fsp.open(path, 'r');
  try {
    const head = Buffer.alloc(2);
    const { bytesRead } = await fh.read(head, 0, 2, 0);
    return bytesRead === 2 && head.readUInt16BE(0) === GZIP_MAGIC;
  } finally {
    await fh.close();
  }
}

/**
 * Reads a file into three buffers used in turn, always one read ahead: the kernel copies the
 * next chunk (on libuv's thread pool) while the parser works on this one, and a parser's
 * leftover tail of the previous chunk stays intact in the third buffer.
 */
async function* readInTurns(path: string): AsyncGenerator<Buffer> {
  const fh = await fsp.open(path, 'r');
  const buffers = [Buffer.allocUnsafe(CHUNK_SIZE), Buffer.allocUnsafe(CHUNK_SIZE), Buffer.allocUnsafe(CHUNK_SIZE)];
  let ahead = fh.read(buffers[0]!, 0, CHUNK_SIZE, null);
  try {
    for (let turn = 0; ; turn = (turn + 1) % 3) {
      const { bytesRead } = await ahead;
      if (bytesRead === 0) return;
      ahead = fh.read(buffers[(turn + 1) % 3]!, 0, CHUNK_SIZE, null);
      yield buffers[turn]!.subarray(0, bytesRead);
    }
  } finally {
    // Let an outstanding read finish before closing the handle under it.
    await ahead.catch(() => undefined);
    await fh.close();
  }
}

const ABORTED = Symbol('aborted');

function whenAborted(signal: AbortSignal): Promise<typeof ABORTED> {
  if (signal.aborted) return Promise.resolve(ABORTED);
  return new Promise((resolve) => signal.addEventListener('abort', () => resolve(ABORTED), { once: true }));
}

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

/** Streams gzip decompression; a cut-off or corrupt gzip file becomes a typed error after the data before it. */
async function* gunzip(src: AsyncIterable<Buffer>, file: string): AsyncGenerator<Buffer> {
  const gz = createGunzip({ chunkSize: CHUNK_SIZE });
  let feedError: unknown = null;
  const feed = (async () => {
    try {
      for await (const c of src) {
        if (!gz.write(c)) await once(gz, 'drain');
      }
      gz.end();
    } catch (e) {
      feedError = e;
      gz.destroy(e as Error);
    }
  })();
  let out = 0;
  try {
    for await (const c of gz as AsyncIterable<Buffer>) {
      out += c.length;
      yield c;
    }
  } catch (e) {
    if (feedError instanceof TsleuthError) throw feedError;
    const err = e as NodeJS.ErrnoException;
    if (err.code === 'Z_BUF_ERROR') {
      throw new TsleuthError('TSL_ERR_TRUNCATED', 'the gzip stream ends early (the compressed file was cut off)', { file, offset: out });
    }
    throw new TsleuthError('TSL_ERR_CORRUPT', `the gzip stream is corrupt (${err.message})`, { file, offset: out });
  } finally {
    await feed;
  }
}
