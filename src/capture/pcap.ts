/**
 * libpcap's classic file format.
 *
 * Global header (24 bytes), in the writer's byte order:
 *   u32 magic  a1b2c3d4 (µs timestamps) or a1b23c4d (ns timestamps)
 *   u16 version_major, u16 version_minor, i32 thiszone, u32 sigfigs
 *   u32 snaplen, u32 linktype (low 16 bits; upper bits carry FCS flags)
 * Record header (16 bytes):
 *   u32 ts_sec, u32 ts_usec_or_nsec, u32 incl_len (bytes in the file), u32 orig_len (on the wire)
 */
import { TsleuthError } from '../errors.js';
import { Accumulator } from './accumulate.js';
import { type CaptureInfo, type CaptureParser, type FrameSink, newCaptureInfo, newFrame } from './frame.js';

export const PCAP_MAGIC_USEC = 0xa1b2c3d4;
export const PCAP_MAGIC_NSEC = 0xa1b23c4d;

const GLOBAL_HEADER_LEN = 24;
const RECORD_HEADER_LEN = 16;
/** Largest record we accept whatever the snaplen says (Wireshark's limit is 256 KiB; jumbo/TSO captures go beyond). */
const MAX_RECORD_LEN = 16 * 1024 * 1024;
/**
 * The most a file's own snaplen can raise that limit to, as pcapng's block limit caps a block: a
 * corrupt snaplen (0xffffffff) would otherwise let one corrupt length make the reader collect
 * gigabytes for a single record before it could say the file is corrupt.
 */
const MAX_TRUSTED_SNAPLEN = 64 * 1024 * 1024;

/** A u32 in either byte order. Plain byte arithmetic: Buffer#readUInt32LE validates its argument on every call. */
function u32At(b: Buffer, o: number, bigEndian: boolean): number {
  return bigEndian
    ? ((b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!) >>> 0
    : ((b[o + 3]! << 24) | (b[o + 2]! << 16) | (b[o + 1]! << 8) | b[o]!) >>> 0;
}

/** True if these (at least 4) bytes start a classic pcap file. */
export function isPcapMagic(b: Buffer): boolean {
  const le = b.readUInt32LE(0);
  const be = b.readUInt32BE(0);
  return le === PCAP_MAGIC_USEC || le === PCAP_MAGIC_NSEC || be === PCAP_MAGIC_USEC || be === PCAP_MAGIC_NSEC;
}

export class PcapParser implements CaptureParser {
  readonly info: CaptureInfo;
  private readonly sink: FrameSink;
  private readonly file: string | undefined;
  private readonly frame = newFrame();
  private pending: Buffer | null = null;
  private readonly straddling = new Accumulator();
  private headerDone = false;
  private bigEndian = false;
  private tsDivisor = 1e6;
  private snaplen = 0;
  /** The longest record this file may hold: its snaplen, within MAX_RECORD_LEN..MAX_TRUSTED_SNAPLEN. */
  private maxRecordLen = MAX_RECORD_LEN;
  private linkType = 0;
  private frames = 0;
  private truncated = 0;
  /** Stream offset of the first byte of the buffer being parsed. */
  private base = 0;
  consumed = 0;

  constructor(sink: FrameSink, file?: string, compressed = false) {
    this.sink = sink;
    this.file = file;
    this.info = newCaptureInfo('pcap', compressed);
  }

  push(chunk: Buffer): void {
    let pos = 0;
    if (!this.headerDone) {
      const head = this.pending === null ? chunk : Buffer.concat([this.pending, chunk]);
      this.pending = null;
      if (head.length < GLOBAL_HEADER_LEN) {
        this.pending = head;
        return;
      }
      this.readGlobalHeader(head);
      this.base = GLOBAL_HEADER_LEN;
      this.parseRecords(head, GLOBAL_HEADER_LEN);
    } else {
      if (this.pending !== null) {
        pos = this.completeStraddlingRecord(chunk);
        if (pos < 0) return;
      }
      this.parseRecords(chunk, pos);
    }
    this.consumed = this.base;
    this.flushInfo();
  }

  /**
   * A record split across two chunks: copy just that record's bytes together and parse it, so a
   * chunk is never copied as a whole. Returns how much of `chunk` it used, or -1 if the record
   * is still incomplete (it is then kept, with the chunk, as pending).
   */
  private completeStraddlingRecord(chunk: Buffer): number {
    const p = this.pending!;
    let header = p;
    if (p.length < RECORD_HEADER_LEN) {
      if (p.length + chunk.length < RECORD_HEADER_LEN) {
        this.pending = Buffer.concat([p, chunk]);
        return -1;
      }
      header = Buffer.concat([p, chunk.subarray(0, RECORD_HEADER_LEN - p.length)]);
    }
    const capLen = this.bigEndian ? header.readUInt32BE(8) : header.readUInt32LE(8);
    this.checkRecordLength(capLen, this.base);
    const missing = RECORD_HEADER_LEN + capLen - p.length;
    if (chunk.length < missing) {
      this.pending = this.straddling.append(p, chunk, RECORD_HEADER_LEN + capLen);
      return -1;
    }
    this.pending = null;
    // Completed in the accumulator too: no second copy of a large record.
    const record = this.straddling.append(p, chunk.subarray(0, missing), RECORD_HEADER_LEN + capLen);
    this.parseRecords(record, 0);
    this.straddling.release();
    return missing;
  }

  private checkRecordLength(capLen: number, offset: number): void {
    const maxLen = this.maxRecordLen;
    if (capLen > maxLen) {
      this.flushInfo();
      throw new TsleuthError(
        'TSL_ERR_CORRUPT',
        `record length ${capLen} is larger than any packet can be (snaplen ${this.snaplen}); the file is corrupt from here on`,
        { file: this.file, offset, frame: this.frames + 1 },
      );
    }
  }

  /** Parses whole records from buf[pos..]; keeps an incomplete tail as pending. `this.base` is the stream offset of buf[pos]. */
  private parseRecords(buf: Buffer, pos: number): void {
    const len = buf.length;
    const frame = this.frame;
    const be = this.bigEndian;
    const div = this.tsDivisor;
    const maxLen = this.maxRecordLen;
    const start = pos;
    const base = this.base;
    frame.data = buf;
    frame.linkType = this.linkType;
    while (len - pos >= RECORD_HEADER_LEN) {
      const capLen = u32At(buf, pos + 8, be);
      if (capLen > maxLen) {
        this.base = base + (pos - start);
        this.checkRecordLength(capLen, this.base);
      }
      if (len - pos - RECORD_HEADER_LEN < capLen) break;
      const sec = u32At(buf, pos, be);
      const frac = u32At(buf, pos + 4, be);
      const origLen = u32At(buf, pos + 12, be);
      this.frames++;
      if (capLen < origLen) this.truncated++;
      frame.number = this.frames;
      frame.ts = sec + frac / div;
      frame.offset = pos + RECORD_HEADER_LEN;
      frame.capLen = capLen;
      frame.origLen = origLen;
      frame.fileOffset = base + (pos - start);
      this.sink(frame);
      pos += RECORD_HEADER_LEN + capLen;
    }
    this.base = base + (pos - start);
    if (pos < len) this.pending = buf.subarray(pos);
  }

  end(): void {
    this.flushInfo();
    if (!this.headerDone) {
      throw new TsleuthError('TSL_ERR_TRUNCATED', 'the file ends inside the pcap file header', { file: this.file, offset: 0 });
    }
    if (this.pending !== null && this.pending.length > 0) {
      const what = this.pending.length < RECORD_HEADER_LEN ? 'a record header' : 'a record';
      throw new TsleuthError(
        'TSL_ERR_TRUNCATED',
        `the file ends inside ${what} (${this.pending.length} bytes left over); it was cut off while being written or copied`,
        { file: this.file, offset: this.base, frame: this.frames + 1 },
      );
    }
  }

  private readGlobalHeader(buf: Buffer): void {
    const le = buf.readUInt32LE(0);
    const be = buf.readUInt32BE(0);
    if (le === PCAP_MAGIC_USEC || le === PCAP_MAGIC_NSEC) {
      this.bigEndian = false;
      this.tsDivisor = le === PCAP_MAGIC_NSEC ? 1e9 : 1e6;
    } else if (be === PCAP_MAGIC_USEC || be === PCAP_MAGIC_NSEC) {
      this.bigEndian = true;
      this.tsDivisor = be === PCAP_MAGIC_NSEC ? 1e9 : 1e6;
    } else {
      throw new TsleuthError('TSL_ERR_NOT_A_CAPTURE', 'not a pcap file (bad magic number)', { file: this.file, offset: 0 });
    }
    const r32 = this.bigEndian ? (o: number) => buf.readUInt32BE(o) : (o: number) => buf.readUInt32LE(o);
    this.snaplen = r32(16);
    this.maxRecordLen = Math.min(Math.max(this.snaplen, MAX_RECORD_LEN), MAX_TRUSTED_SNAPLEN);
    // The upper 16 bits of the link-type field carry FCS information (pcap-savefile(5)).
    this.linkType = r32(20) & 0xffff;
    this.headerDone = true;
  }

  private flushInfo(): void {
    this.info.frames = this.frames;
    this.info.truncatedFrames = this.truncated;
    this.info.bytes = this.base;
    if (this.frames > 0) this.info.linkTypes.set(this.linkType, this.frames);
    else if (this.headerDone) this.info.linkTypes.set(this.linkType, 0);
  }
}
