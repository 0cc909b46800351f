/**
 * pcapng (draft-ietf-opsawg-pcapng), read as a stream of blocks.
 *
 * Every block:  u32 type | u32 total_length | body | u32 total_length   (total_length % 4 == 0)
 * Section Header Block (0x0A0D0D0A): u32 byte_order_magic 0x1A2B3C4D | u16 major | u16 minor |
 *   i64 section_length | options.  Its magic fixes the byte order of the whole section.
 * Interface Description Block (1): u16 linktype | u16 reserved | u32 snaplen | options
 *   (if_tsresol = 9: 1 byte, MSB 0 → 10^-n s, MSB 1 → 2^-n s; if_tsoffset = 14: i64 seconds).
 * Enhanced Packet Block (6): u32 interface_id | u32 ts_high | u32 ts_low | u32 cap_len | u32 orig_len | data
 * Simple Packet Block (3):   u32 orig_len | data (interface 0, no timestamp)
 * Packet Block (2, obsolete): u16 interface_id | u16 drops | u32 ts_high | u32 ts_low | u32 cap_len | u32 orig_len | data
 * Interfaces are numbered per section in IDB order. Other block types are skipped.
 */
import { TsleuthError } from '../errors.js';
import { Accumulator } from './accumulate.js';
import { type CaptureInfo, type CaptureParser, type FrameSink, newCaptureInfo, newFrame } from './frame.js';

export const PCAPNG_SHB = 0x0a0d0d0a;
const BYTE_ORDER_MAGIC = 0x1a2b3c4d;
const BLOCK_IDB = 1;
const BLOCK_PB = 2;
const BLOCK_SPB = 3;
const BLOCK_EPB = 6;
const OPT_IF_TSRESOL = 9;
const OPT_IF_TSOFFSET = 14;
const MAX_BLOCK_LEN = 64 * 1024 * 1024;
const TWO_POW_32 = 4294967296;

export function isPcapngMagic(b: Buffer): boolean {
  return b.readUInt32BE(0) === PCAPNG_SHB;
}

interface Interface {
  /** Position among all the file's interfaces, over every section (Frame.interfaceId). */
  ordinal: number;
  linkType: number;
  snaplen: number;
  /** Seconds per timestamp unit, and per 2^32 units (so ts = high * perHigh + low * perUnit). */
  perUnit: number;
  perHigh: number;
  offsetSec: number;
  frames: number;
}

export class PcapngParser implements CaptureParser {
  readonly info: CaptureInfo;
  private readonly sink: FrameSink;
  private readonly file: string | undefined;
  private readonly frame = newFrame();
  private pending: Buffer | null = null;
  private readonly straddling = new Accumulator();
  private bigEndian = false;
  private sectionSeen = false;
  private interfaces: Interface[] = [];
  /** Interfaces of sections already closed, kept for the link-type summary. */
  private retired: Interface[] = [];
  private frames = 0;
  private truncated = 0;
  /** Stream offset of the next unparsed byte. */
  private base = 0;
  /** Stream offset of byte 0 of the buffer being parsed. */
  private bufBase = 0;
  consumed = 0;

  constructor(sink: FrameSink, file?: string, compressed = false) {
    this.sink = sink;
    this.file = file;
    this.info = newCaptureInfo('pcapng', compressed);
  }

  push(chunk: Buffer): void {
    let pos = 0;
    if (this.pending !== null) {
      pos = this.completeStraddlingBlock(chunk);
      if (pos < 0) return;
    }
    this.parseBlocks(chunk, pos);
    this.consumed = this.base;
    this.flushInfo();
  }

  /**
   * A block split across two chunks: copy just that block together and parse it, so a chunk is
   * never copied as a whole. Returns how much of `chunk` it used, or -1 if still incomplete.
   */
  private completeStraddlingBlock(chunk: Buffer): number {
    const p = this.pending!;
    let head = p;
    if (p.length < 12) {
      if (p.length + chunk.length < 12) {
        this.pending = Buffer.concat([p, chunk]);
        return -1;
      }
      head = Buffer.concat([p, chunk.subarray(0, 12 - p.length)]);
    }
    const total = this.blockLength(head, 0, this.base);
    const missing = total - p.length;
    if (chunk.length < missing) {
      this.pending = this.straddling.append(p, chunk, total);
      return -1;
    }
    this.pending = null;
    // Completed in the accumulator too: no second copy of a large block.
    const block = this.straddling.append(p, chunk.subarray(0, missing), total);
    this.parseBlocks(block, 0);
    this.straddling.release();
    return missing;
  }

  /** Validates the block header at buf[pos] (12 bytes available) and returns its total length. */
  private blockLength(buf: Buffer, pos: number, streamOffset: number): number {
    // The SHB's type reads the same in both byte orders; its byte-order magic fixes the section's order.
    if (buf.readUInt32BE(pos) === PCAPNG_SHB) {
      if (buf.readUInt32LE(pos + 8) === BYTE_ORDER_MAGIC) this.bigEndian = false;
      else if (buf.readUInt32BE(pos + 8) === BYTE_ORDER_MAGIC) this.bigEndian = true;
      else throw this.corruptAt('section header block has no valid byte-order magic', streamOffset);
    } else if (!this.sectionSeen) {
      throw new TsleuthError('TSL_ERR_NOT_A_CAPTURE', 'not a pcapng file (no section header block)', { file: this.file, offset: 0 });
    }
    const total = this.u32(buf, pos + 4);
    if (total < 12 || total % 4 !== 0 || total > MAX_BLOCK_LEN) {
      throw this.corruptAt(`block length ${total} is impossible (must be a multiple of 4 between 12 and ${MAX_BLOCK_LEN})`, streamOffset);
    }
    return total;
  }

  /** Parses whole blocks from buf[pos..]; `this.base` is the stream offset of buf[pos]. */
  private parseBlocks(buf: Buffer, pos: number): void {
    const len = buf.length;
    this.bufBase = this.base - pos;
    this.frame.data = buf;
    while (len - pos >= 12) {
      const total = this.blockLength(buf, pos, this.bufBase + pos);
      if (len - pos < total) break;
      if (this.u32(buf, pos + total - 4) !== total) {
        throw this.corrupt(`block length ${total} at the start does not match the length at its end`, pos);
      }
      this.block(this.u32(buf, pos), buf, pos, total);
      pos += total;
    }
    this.base = this.bufBase + pos;
    if (pos < len) this.pending = buf.subarray(pos);
  }

  end(): void {
    this.flushInfo();
    if (!this.sectionSeen) {
      throw new TsleuthError('TSL_ERR_TRUNCATED', 'the file ends before its first section header block is complete', { file: this.file, offset: 0 });
    }
    if (this.pending !== null && this.pending.length > 0) {
      throw new TsleuthError(
        'TSL_ERR_TRUNCATED',
        `the file ends inside a block (${this.pending.length} bytes left over); it was cut off while being written or copied`,
        { file: this.file, offset: this.base, frame: this.frames + 1 },
      );
    }
  }

  private u32(buf: Buffer, pos: number): number {
    return this.bigEndian ? buf.readUInt32BE(pos) : buf.readUInt32LE(pos);
  }

  private u16(buf: Buffer, pos: number): number {
    return this.bigEndian ? buf.readUInt16BE(pos) : buf.readUInt16LE(pos);
  }

  /** A corruption at buf[pos] of the buffer being parsed. */
  private corrupt(what: string, pos: number): TsleuthError {
    return this.corruptAt(what, this.bufBase + pos);
  }

  private corruptAt(what: string, offset: number): TsleuthError {
    this.flushInfo();
    return new TsleuthError('TSL_ERR_CORRUPT', what, { file: this.file, offset, frame: this.frames + 1 });
  }

  private fault(reason: string): void {
    this.info.faults.set(reason, (this.info.faults.get(reason) ?? 0) + 1);
  }

  private block(type: number, buf: Buffer, pos: number, total: number): void {
    const body = pos + 8;
    const bodyEnd = pos + total - 4;
    switch (type) {
      case PCAPNG_SHB:
        this.sectionSeen = true;
        this.retired.push(...this.interfaces);
        this.interfaces = [];
        return;
      case BLOCK_IDB:
        if (bodyEnd - body < 8) throw this.corrupt('interface description block is too short', pos);
        this.interfaces.push(this.readInterface(buf, body, bodyEnd, this.retired.length + this.interfaces.length));
        return;
      case BLOCK_EPB: {
        if (bodyEnd - body < 20) throw this.corrupt('enhanced packet block is too short', pos);
        const ifc = this.interfaces[this.u32(buf, body)];
        const capLen = this.u32(buf, body + 12);
        if (capLen > bodyEnd - body - 20) throw this.corrupt(`captured length ${capLen} runs past the end of its block`, pos);
        if (ifc === undefined) return this.fault('packet_on_unknown_interface');
        this.emit(ifc, this.u32(buf, body + 4), this.u32(buf, body + 8), body + 20, capLen, this.u32(buf, body + 16), pos);
        return;
      }
      case BLOCK_PB: {
        if (bodyEnd - body < 20) throw this.corrupt('packet block is too short', pos);
        const ifc = this.interfaces[this.u16(buf, body)];
        const capLen = this.u32(buf, body + 12);
        if (capLen > bodyEnd - body - 20) throw this.corrupt(`captured length ${capLen} runs past the end of its block`, pos);
        if (ifc === undefined) return this.fault('packet_on_unknown_interface');
        this.emit(ifc, this.u32(buf, body + 4), this.u32(buf, body + 8), body + 20, capLen, this.u32(buf, body + 16), pos);
        return;
      }
      case BLOCK_SPB: {
        if (bodyEnd - body < 4) throw this.corrupt('simple packet block is too short', pos);
        const ifc = this.interfaces[0];
        if (ifc === undefined) return this.fault('packet_on_unknown_interface');
        const origLen = this.u32(buf, body);
        let capLen = Math.min(origLen, bodyEnd - body - 4);
        if (ifc.snaplen > 0 && capLen > ifc.snaplen) capLen = ifc.snaplen;
        // A simple packet block carries no timestamp: it inherits the previous frame's time.
        this.emitAt(ifc, this.frame.ts, body + 4, capLen, origLen, pos);
        return;
      }
      default:
        return; // name resolution, statistics, custom and unknown blocks carry no frames
    }
  }

  private readInterface(buf: Buffer, body: number, bodyEnd: number, ordinal: number): Interface {
    const ifc: Interface = {
      ordinal,
      linkType: this.u16(buf, body),
      snaplen: this.u32(buf, body + 4),
      perUnit: 1e-6,
      perHigh: TWO_POW_32 / 1e6,
      offsetSec: 0,
      frames: 0,
    };
    let o = body + 8;
    while (bodyEnd - o >= 4) {
      const code = this.u16(buf, o);
      const olen = this.u16(buf, o + 2);
      const value = o + 4;
      if (code === 0 || value + olen > bodyEnd) break; // opt_endofopt, or an option running past the block
      if (code === OPT_IF_TSRESOL && olen >= 1) {
        const r = buf[value]!;
        const exp = r & 0x7f;
        const unitsPerSec = r & 0x80 ? 2 ** exp : 10 ** exp;
        ifc.perUnit = 1 / unitsPerSec;
        ifc.perHigh = TWO_POW_32 / unitsPerSec;
      } else if (code === OPT_IF_TSOFFSET && olen >= 8) {
        const hi = this.bigEndian ? buf.readInt32BE(value) : buf.readInt32LE(value + 4);
        const lo = this.bigEndian ? buf.readUInt32BE(value + 4) : buf.readUInt32LE(value);
        ifc.offsetSec = hi * TWO_POW_32 + lo;
      }
      o = value + ((olen + 3) & ~3);
    }
    return ifc;
  }

  private emit(ifc: Interface, tsHigh: number, tsLow: number, data: number, capLen: number, origLen: number, blockPos: number): void {
    this.emitAt(ifc, tsHigh * ifc.perHigh + tsLow * ifc.perUnit + ifc.offsetSec, data, capLen, origLen, blockPos);
  }

  private emitAt(ifc: Interface, ts: number, data: number, capLen: number, origLen: number, blockPos: number): void {
    const f = this.frame;
    this.frames++;
    ifc.frames++;
    if (capLen < origLen) this.truncated++;
    f.number = this.frames;
    f.ts = ts;
    f.linkType = ifc.linkType;
    f.interfaceId = ifc.ordinal;
    f.offset = data;
    f.capLen = capLen;
    f.origLen = origLen;
    f.fileOffset = this.bufBase + blockPos;
    this.sink(f);
  }

  private flushInfo(): void {
    this.info.frames = this.frames;
    this.info.truncatedFrames = this.truncated;
    this.info.bytes = this.base;
    this.info.linkTypes.clear();
    for (const ifc of [...this.retired, ...this.interfaces]) {
      this.info.linkTypes.set(ifc.linkType, (this.info.linkTypes.get(ifc.linkType) ?? 0) + ifc.frames);
    }
  }
}
