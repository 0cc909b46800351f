/**
 * Other encodings of one capture, so the same traffic is read as classic pcap, as pcapng and
 * gzip-compressed: the analysis must not depend on how the file was stored.
 */
import { execFile } from 'node:child_process';
import { createReadStream, createWriteStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { promisify } from 'node:util';
import { createGzip } from 'node:zlib';

const execFileAsync = promisify(execFile);

/** Rewrites `src` as pcapng with Wireshark's editcap (an independent pcapng writer). */
export async function writePcapngCopy(src: string, dst: string): Promise<void> {
  await execFileAsync('editcap', ['-F', 'pcapng', src, dst], { timeout: 10_000 });
}

/** Writes `src` gzip-compressed to `dst`. */
export async function writeGzipCopy(src: string, dst: string): Promise<void> {
  await pipeline(createReadStream(src), createGzip(), createWriteStream(dst));
}
