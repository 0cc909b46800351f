/**
 * The capture layer's output: one frame as the capture file recorded it.
 *
 * A reader owns one Frame object and mutates it for every record (no allocation per packet);
 * `data` is the reader's current chunk and the frame's bytes are data[offset, offset+capLen).
 * A sink must not keep the object or the buffer past its `frame()` call.
 */
export interface Frame {
  /** 1-based position of the frame in the capture. */
  number: number;
  /** Capture time, seconds since the epoch (fraction holds micro- or nanoseconds). */
  ts: number;
  /** LINKTYPE_* value of the interface the frame came from. */
  linkType: number;
  /** Which of the file's capture interfaces it came from: a pcapng interface's position in the file (0 in pcap). */
  interfaceId: number;
  data: Buffer;
  offset: number;
  /** Bytes present in the file (after snaplen truncation). */
  capLen: number;
  /** Bytes the frame had on the wire. */
  origLen: number;
  /** Byte offset of the record in the (decompressed) capture stream. */
  fileOffset: number;
}

export function newFrame(): Frame {
  return { number: 0, ts: 0, linkType: 0, interfaceId: 0, data: Buffer.alloc(0), offset: 0, capLen: 0, origLen: 0, fileOffset: 0 };
}

/** Receives frames synchronously, in capture order. */
export type FrameSink = (frame: Frame) => void;

/** What a reader learned about the file itself. */
export interface CaptureInfo {
  format: 'pcap' | 'pcapng';
  compressed: boolean;
  /** Link types seen, with the number of frames of each. */
  linkTypes: Map<number, number>;
  frames: number;
  bytes: number;
  /** Frames whose capLen < origLen (cut by the snaplen). */
  truncatedFrames: number;
  /** Non-fatal faults of the file structure, by reason (e.g. a packet block naming an unknown interface). */
  faults: Map<string, number>;
}

export function newCaptureInfo(format: CaptureInfo['format'], compressed: boolean): CaptureInfo {
  return { format, compressed, linkTypes: new Map(), frames: 0, bytes: 0, truncatedFrames: 0, faults: new Map() };
}

/**
 * A push parser for one capture format: feed it chunks in order, then call end().
 * Implementations hold at most one partial record between chunks.
 */
export interface CaptureParser {
  push(chunk: Buffer): void;
  /** Throws TSL_ERR_TRUNCATED if the stream ended inside a header or record. */
  end(): void;
  readonly info: CaptureInfo;
  /** Bytes consumed so far, for progress and error offsets. */
  readonly consumed: number;
}
