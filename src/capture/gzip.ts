/**
 * Streaming gzip decompression (RFC 1952) into three buffers used in turn, losing nothing before
 * a fault.
 *
 * Node's zlib streams allocate a new buffer for every output chunk. An analysis allocates almost
 * nothing else, so the garbage collector ran too rarely to free them: a 1.4 GB gzip capture held
 * 1.5 GB of memory. They also drop the output of the call in which they meet an error, so garbage
 * after the last member (`gzip -d` warns and keeps everything) cost the end of the capture, and
 * corruption part-way up to a chunk before it. So the inflating is done by Node's own zlib
 * through native/tsl_inflate.c, into buffers owned here; zlib checks each member's header, CRC-32
 * and length, and what it produced before an error is handed on before the error is thrown.
 *
 * As with a plain file, a consumer must be done with a chunk (but for a leftover tail it keeps
 * until the next chunk) before taking the one after next.
 */
import { TsleuthError } from '../errors.js';
import { loadAddon } from '../native-addon.js';

interface InflateAddon {
  inflateCreate(): unknown;
  inflateEnd(h: unknown): void;
  inflateRun(h: unknown, input: Buffer, inOff: number, inLen: number, out: Buffer, outOff: number, outLen: number, state: Int32Array): number;
  inflateReset(h: unknown): number;
  inflateMessage(h: unknown): string | null;
}

// zlib's status codes (zlib.h).
const Z_STREAM_END = 1;
const Z_NEED_DICT = 2;
const Z_BUF_ERROR = -5;

/** zlib's words for the faults of the gzip wrapper, in ours; others are quoted as zlib says them. */
const WRAPPER_FAULTS: Record<string, string> = {
  'incorrect data check': "a member's CRC-32 does not match its data",
  'incorrect length check': "a member's recorded length does not match its data",
  'unknown compression method': 'a member is compressed with a method other than deflate',
  'incorrect header check': 'a member header is damaged',
};

/** Decompressed bytes per chunk handed on. */
const OUT_SIZE = 4 << 20;

export interface GunzipFaults {
  /** Bytes after the last member that are neither another member nor zero padding: ignored, as by gzip -d. */
  trailingGarbage(): void;
}

/** The decompressed bytes of every member, in order. Typed errors carry the decompressed offset reached. */
export async function* gunzip(src: AsyncIterable<Buffer>, file: string, faults: GunzipFaults): AsyncGenerator<Buffer> {
  const z = loadAddon<InflateAddon>('tsl_inflate', 'the gzip decompressor (a native addon)');
  const h = z.inflateCreate();
  const state = new Int32Array(2);
  const outs = [Buffer.allocUnsafe(OUT_SIZE), Buffer.allocUnsafe(OUT_SIZE), Buffer.allocUnsafe(OUT_SIZE)];
  const it = src[Symbol.asyncIterator]();
  let input: Buffer = Buffer.alloc(0);
  let pos = 0;
  let sourceDone = false;
  /** Inside a member (its end not reached yet). */
  let inMember = true;
  /** Decompressed bytes handed on so far (the offset in errors). */
  let offset = 0;

  /** At least `n` unread input bytes (fewer only at the end of the source); false if none are left. */
  const want = async (n: number): Promise<boolean> => {
    while (input.length - pos < n && !sourceDone) {
      const r = await it.next();
      if (r.done === true) sourceDone = true;
      else if (pos === input.length) [input, pos] = [r.value, 0];
      else [input, pos] = [Buffer.concat([input.subarray(pos), r.value]), 0];
    }
    return input.length > pos;
  };

  try {
    for (let turn = 0; ; turn = (turn + 1) % 3) {
      const out = outs[turn]!;
      let filled = 0;
      let fault: TsleuthError | null = null;
      let finished = false;
      while (filled < OUT_SIZE) {
        // Input used up: hand on what is inflated before waiting for more (a live pipe, Ctrl-C).
        if (filled > 0 && pos === input.length && !sourceDone) break;
        if (!inMember) {
          // After a member: another one, zero padding (ignored, as by gzip), garbage, or the end.
          if (!(await want(2))) {
            finished = true;
            break;
          }
          if (input[pos] === 0x1f && input[pos + 1] === 0x8b) {
            z.inflateReset(h);
            inMember = true;
          } else if (input[pos] === 0 && input.subarray(pos).every((b) => b === 0)) {
            pos = input.length;
          } else {
            faults.trailingGarbage();
            finished = true;
            break;
          }
          continue;
        }
        if (!(await want(1))) {
          fault = new TsleuthError('TSL_ERR_TRUNCATED', 'the gzip stream ends early (the compressed file was cut off)', { file, offset: offset + filled });
          break;
        }
        const status = z.inflateRun(h, input, pos, input.length - pos, out, filled, OUT_SIZE - filled, state);
        pos += state[0]!;
        filled += state[1]!;
        if (status === Z_STREAM_END) inMember = false;
        else if (status === Z_NEED_DICT || (status < 0 && status !== Z_BUF_ERROR)) {
          const why = z.inflateMessage(h) ?? `zlib status ${status}`;
          fault = new TsleuthError('TSL_ERR_CORRUPT', `the gzip stream is corrupt (${WRAPPER_FAULTS[why] ?? why})`, { file, offset: offset + filled });
          break;
        }
      }
      // What came before a fault is handed on first.
      if (filled > 0) {
        offset += filled;
        yield out.subarray(0, filled);
      }
      if (fault !== null) throw fault;
      if (finished) return;
    }
  } finally {
    z.inflateEnd(h);
    // Stopped before the source's end (garbage after the last member, a fault): close it.
    void it.return?.().catch(() => undefined);
  }
}
