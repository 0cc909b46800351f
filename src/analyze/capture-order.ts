/**
 * Several capture files read as one: the pieces of a rotated capture (`tcpdump -C 100 -W 10`,
 * `tcpdump -G 3600`, dumpcap's ring buffer). They are read in the order of their first packets,
 * not of their names: a ring buffer's numbers wrap around, and a shell sorts `trace.pcap10`
 * before `trace.pcap2`.
 */
import { stat } from 'node:fs/promises';
import { CaptureReader } from '../capture/reader.js';
import { TsleuthError } from '../errors.js';

/** What the ordering reads at a time: enough for the headers and a first packet, not megabytes of each file. */
const PEEK_CHUNK = 64 << 10;

/**
 * The time of a file's first frame: its first chunks are read until a frame comes. A file that
 * cannot be read sorts first, so its error is reported before anything else; one without frames
 * sorts last.
 */
async function firstFrameTime(path: string, signal: AbortSignal | undefined): Promise<{ t: number; size: number | undefined }> {
  let first = Infinity;
  const reader = new CaptureReader(
    path,
    (f) => {
      if (first === Infinity) first = f.ts;
    },
    path,
    signal,
    PEEK_CHUNK,
  );
  try {
    // Breaking out closes the file.
    for await (const _ of reader.read()) if (first !== Infinity) break;
  } catch (e) {
    if (!(e instanceof TsleuthError)) throw e;
    return { t: first === Infinity ? -Infinity : first, size: reader.progress.sourceSize };
  }
  return { t: first, size: reader.progress.sourceSize };
}

export interface CaptureFile {
  path: string;
  /** Bytes, when it is a regular file (for the progress line's ETA). */
  size: number | undefined;
}

/** The files in the order of their first packets (ties keep the order given). */
export async function inCaptureOrder(paths: readonly string[], signal?: AbortSignal): Promise<CaptureFile[]> {
  const keyed: Array<{ file: CaptureFile; t: number; i: number }> = [];
  for (let i = 0; i < paths.length; i++) {
    // Finding the order reads each file's first bytes, and reading it then starts over: a pipe,
    // FIFO or device (`<(tcpdump …)`, "-") would have lost those bytes. (A missing file or a
    // directory is left to the reader, whose error names it, and is skipped like any unreadable piece.)
    const st = await stat(paths[i]!).catch(() => null);
    if (paths[i] === '-' || (st !== null && (st.isFIFO() || st.isCharacterDevice() || st.isSocket()))) {
      throw new TsleuthError('TSL_ERR_USAGE', `several captures are read as one only from files, and ${paths[i] === '-' ? 'standard input' : paths[i]} is a pipe or a device (read it alone)`);
    }
    const { t, size } = await firstFrameTime(paths[i]!, signal);
    keyed.push({ file: { path: paths[i]!, size }, t, i });
  }
  return keyed.sort((a, b) => (a.t < b.t ? -1 : a.t > b.t ? 1 : a.i - b.i)).map((k) => k.file);
}
