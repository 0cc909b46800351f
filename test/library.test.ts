/** The package's entry point offers the library API the CLI is built on. */
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { it } from 'node:test';
import { gzipSync } from 'node:zlib';
import { gunzip } from '../src/capture/gzip.js';
import * as tcpsleuth from '../src/index.js';
import { ethernet, handshakeDataClose, pcapFile, tcpIpPacket } from './helpers/capture-builder.js';
import { conformanceDir } from './helpers/paths.js';

it('analyze() from the package entry streams connection records, then a summary', async () => {
  const records: tcpsleuth.AnalysisRecord[] = [];
  for await (const r of tcpsleuth.analyze(join(conformanceDir, 'zeek', 'traces', 'pop3.pcap'))) records.push(r);
  const last = records.at(-1)!;
  assert.equal(last.type, 'summary');
  const conns = records.filter((r): r is tcpsleuth.ConnectionRecord => r.type === 'connection');
  assert.equal(conns.length, 11);
  assert.deepEqual(
    conns.map((c) => c.conn_state).sort(),
    ['REJ', 'REJ', 'REJ', 'REJ', 'REJ', 'REJ', 'SF', 'SF', 'SF', 'SF', 'SF'],
  );
  assert.equal(tcpsleuth.CONN_STATE_MEANING.REJ, 'connection attempt rejected');
});

it('the package resolves by its own name, as a dependent project would import it', async () => {
  const self = (await import('tcpsleuth')) as typeof tcpsleuth;
  assert.equal(typeof self.analyze, 'function');
  assert.equal(typeof self.kernel.Tracer, 'function');
  assert.equal(typeof self.ChatServer, 'function');
});

it('closes the capture file however the read ends: a fault, garbage after gzip, a consumer that stops', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tsl-fd-'));
  try {
    const frames = handshakeDataClose().map((s, i) => ({ ts: 1700000000 + i * 0.01, data: ethernet(tcpIpPacket(s)) }));
    const good = pcapFile(frames);
    const corrupt = Buffer.from(good);
    corrupt.writeUInt32LE(0x7fffffff, 24 + 8); // the first record's captured length
    const files = {
      corrupt: join(dir, 'corrupt.pcap'),
      garbage: join(dir, 'garbage.pcap.gz'),
      good: join(dir, 'good.pcap'),
    };
    writeFileSync(files.corrupt, corrupt);
    writeFileSync(files.garbage, Buffer.concat([gzipSync(good), Buffer.from('JUNK')]));
    writeFileSync(files.good, good);
    const open = (): number => readdirSync('/proc/self/fd').length;
    const before = open();
    await assert.rejects(async () => {
      for await (const _ of tcpsleuth.analyze(files.corrupt));
    }, /record length/);
    for await (const _ of tcpsleuth.analyze(files.garbage));
    for await (const r of tcpsleuth.analyze(files.good)) if (r.type === 'connection') break;
    // The files are closed as the readers unwind, a moment after the loops end.
    for (let i = 0; i < 50 && open() > before; i++) await new Promise((r) => setTimeout(r, 20));
    assert.equal(open(), before);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

it('gzip hands on what it inflated before it waits for more input (a live pipe)', async () => {
  const frames = handshakeDataClose().map((s, i) => ({ ts: 1700000000 + i * 0.01, data: ethernet(tcpIpPacket(s)) }));
  const plain = pcapFile(frames);
  const gz = gzipSync(plain);
  // Everything but the trailer, then a source that never says more.
  async function* live(): AsyncGenerator<Buffer> {
    yield gz.subarray(0, gz.length - 8);
    await new Promise(() => undefined);
  }
  const it = gunzip(live(), 'live', { trailingGarbage: () => undefined })[Symbol.asyncIterator]();
  const first = await Promise.race([it.next(), new Promise<'waiting'>((r) => setTimeout(() => r('waiting'), 2000))]);
  assert.notEqual(first, 'waiting', 'the inflated bytes were held back');
  assert.ok(first !== 'waiting' && first.done !== true && plain.equals(first.value));
});
