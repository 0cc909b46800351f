/**
 * Writes a classic libpcap file (little-endian, µs timestamps) through one fixed buffer that is
 * flushed with large synchronous writes, so memory stays bounded whatever the file size.
 */
import { closeSync, openSync, writeSync } from 'node:fs';

const MAGIC_USEC = 0xa1b2c3d4;
const SNAPLEN = 65535;
const GLOBAL_HEADER_LEN = 24;
const RECORD_HEADER_LEN = 16;
/** Large enough that the write syscalls cost nothing next to building the packets. */
const BUFFER_SIZE = 8 * 1024 * 1024;

export class PcapWriter {
  /** Frames are encoded straight into this buffer at the offset record() returns. */
  readonly buffer = Buffer.allocUnsafe(BUFFER_SIZE);
  private readonly fd: number;
  private pos = 0;
  private written = 0;

  constructor(path: string, linkType: number) {
    this.fd = openSync(path, 'w');
    const b = this.buffer;
    b.writeUInt32LE(MAGIC_USEC, 0);
    b.writeUInt16LE(2, 4);
    b.writeUInt16LE(4, 6);
    b.writeInt32LE(0, 8); // thiszone: timestamps are UTC
    b.writeUInt32LE(0, 12); // sigfigs
    b.writeUInt32LE(SNAPLEN, 16);
    b.writeUInt32LE(linkType, 20);
    this.pos = GLOBAL_HEADER_LEN;
  }

  /** Bytes in the file so far, including what is still buffered. */
  get bytes(): number {
    return this.written + this.pos;
  }

  /**
   * Appends a record header for a frame of `len` bytes captured at `tsUs` (µs since the epoch)
   * and returns the offset in `buffer` where the caller must write the frame before the next call.
   */
  record(tsUs: number, len: number): number {
    if (this.pos + RECORD_HEADER_LEN + len > BUFFER_SIZE) this.flush();
    const b = this.buffer;
    const p = this.pos;
    const sec = Math.floor(tsUs / 1e6);
    b.writeUInt32LE(sec, p);
    b.writeUInt32LE(tsUs - sec * 1e6, p + 4);
    b.writeUInt32LE(len, p + 8);
    b.writeUInt32LE(len, p + 12);
    this.pos = p + RECORD_HEADER_LEN + len;
    return p + RECORD_HEADER_LEN;
  }

  close(): void {
    this.flush();
    closeSync(this.fd);
  }

  private flush(): void {
    let off = 0;
    while (off < this.pos) off += writeSync(this.fd, this.buffer, off, this.pos - off);
    this.written += this.pos;
    this.pos = 0;
  }
}
