/**
 * Memory does not follow the size of the input, whichever way the capture comes: a file, a pipe
 * on standard input, a gzip-compressed file. A reader that takes a fresh buffer per chunk (Node's
 * streams, zlib's streams) leaves them all to a garbage collector that, with nothing else
 * allocated, frees them too late: a 1.4 GB capture piped in held 1.5 GB.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createReadStream, createWriteStream, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { after, before, describe, it } from 'node:test';
import { createGzip, constants } from 'node:zlib';
import { generateCapture } from '../bench/generate.js';
import { cliPath } from './helpers/paths.js';

const dir = mkdtempSync(join(tmpdir(), 'tsl-mem-'));
const plain = join(dir, 'capture.pcap');
const gz = join(dir, 'capture.pcap.gz');
const preload = new URL('../../test/helpers/max-rss.cjs', import.meta.url).pathname;
/** Peak RSS allowed: Node and the analysis take about 120 MB; the input is about 280 MB. */
const LIMIT_MIB = 200;
let packets = 0;

after(() => rmSync(dir, { recursive: true, force: true }));

/** Runs `analyze --json --no-diagnose` on the capture given as `args` (stdin from `stdinFile`); frames and peak RSS. */
async function run(args: string[], stdinFile?: string): Promise<{ frames: number; maxRssMiB: number }> {
  const child = spawn(process.execPath, ['-r', preload, cliPath, 'analyze', '--json', '--no-diagnose', ...args], { stdio: [stdinFile === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
  if (stdinFile !== undefined) void pipeline(createReadStream(stdinFile), child.stdin!).catch(() => undefined);
  let last = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => (last = (last + d.toString()).slice(-4096)));
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
  assert.equal(code, 0, stderr);
  const summary = JSON.parse(last.trim().split('\n').at(-1)!) as { frames: number };
  return { frames: summary.frames, maxRssMiB: Number(/max-rss-kib (\d+)/.exec(stderr)?.[1]) / 1024 };
}

describe('memory stays flat for large inputs', { timeout: 120_000 }, () => {
  before(async () => {
    packets = generateCapture(plain, { targetPackets: 400_000, connections: 12_000 }).packets;
    await pipeline(createReadStream(plain), createGzip({ level: constants.Z_BEST_SPEED }), createWriteStream(gz));
  });

  for (const [name, args, stdin] of [
    ['a file', [plain], undefined],
    ['a pipe on standard input', ['-'], plain],
    ['a gzip-compressed file', [gz], undefined],
  ] as const) {
    it(`${name}: every frame read, peak RSS under ${LIMIT_MIB} MiB`, async () => {
      const r = await run([...args], stdin);
      assert.equal(r.frames, packets);
      assert.ok(r.maxRssMiB > 0 && r.maxRssMiB < LIMIT_MIB, `peak RSS ${r.maxRssMiB.toFixed(0)} MiB`);
    });
  }
});
