/**
 * Several files read as one capture: a real tcpdump rotating its output (-C, as on a server
 * watched for days) while real connections cross loopback in a private namespace. Given the
 * pieces in any order, analyze must report exactly what it reports for the same packets in one
 * file (mergecap -a of the pieces in their real order), frame numbers included. Then the edge
 * cases with files built byte by byte: a ring buffer that wrapped, pieces that overlap in time,
 * pieces cut off, empty or unreadable (skipped and named), gzip and pcapng pieces, and "-" or a
 * FIFO among files.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { once } from 'node:events';
import { chmodSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { after, before, describe, it } from 'node:test';
import { NetNamespace } from '../src/lab/netns.js';
import { ethernet, handshakeDataClose, pcapFile, pcapngFile, tcpIpPacket, type TcpSegmentSpec } from './helpers/capture-builder.js';
import { jsonLines, runCli } from './helpers/run-cli.js';

const dir = mkdtempSync(join(tmpdir(), 'tsl-rotation-'));
// tcpdump drops root privileges to its own user before it opens the rotated files.
chmodSync(dir, 0o777);
after(() => rmSync(dir, { recursive: true, force: true }));

/** Connections of the workload, and what each sends: enough for tcpdump -C 1 to rotate several times. */
const CONNECTIONS = 12;
const BYTES_PER_CONNECTION = 400_000;

/** A server that reads everything and answers with a short line, and clients that each send BYTES_PER_CONNECTION. */
const WORKLOAD = `
const net = require('node:net');
const server = net.createServer((s) => { let n = 0; s.on('data', (d) => { n += d.length; if (n >= ${BYTES_PER_CONNECTION}) s.end('done ' + n + '\\n'); }); });
server.listen(7000, '127.0.0.1', async () => {
  for (let i = 0; i < ${CONNECTIONS}; i++) {
    await new Promise((resolve, reject) => {
      const c = net.connect(7000, '127.0.0.1', () => c.end(Buffer.alloc(${BYTES_PER_CONNECTION}, i)));
      c.on('data', () => undefined).on('end', resolve).on('error', reject);
    });
    // Paced, so tcpdump keeps up while it also rotates files.
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  // One refused connect, so the pieces carry a failure too.
  await new Promise((resolve) => net.connect(9, '127.0.0.1').on('error', resolve));
  server.close();
});
`;

function records(stdout: string): { connections: Array<Record<string, unknown>>; summary: Record<string, unknown> } {
  const all = jsonLines(stdout);
  return { connections: all.filter((r) => r['type'] === 'connection'), summary: all.at(-1)! };
}

describe('a rotated capture from real tcpdump', () => {
  let ns: NetNamespace;
  let pieces: string[];
  before(async () => {
    ns = await NetNamespace.create();
    // A 64 MiB buffer: loopback segments are up to 64 KiB, and a burst of them must not be
    // dropped. Immediate mode: packets reach tcpdump as they come, not when a buffer block fills
    // or times out (the last ones would still be in the kernel when it stops).
    const tcpdump = ns.spawn('tcpdump', ['-U', '--immediate-mode', '-n', '-B', '65536', '-i', 'lo', '-C', '1', '-w', join(dir, 'rot.pcap'), 'tcp'], { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    tcpdump.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    const deadline = Date.now() + 10_000;
    while (!err.includes('listening on lo')) {
      if (Date.now() > deadline) throw new Error(`tcpdump did not start: ${err}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    await ns.run(process.execPath, ['-e', WORKLOAD]);
    // Let tcpdump write the last packets, then stop it as Ctrl-C would.
    await new Promise((r) => setTimeout(r, 500));
    tcpdump.kill('SIGINT');
    await once(tcpdump, 'exit');
    assert.match(err, /\n0 packets dropped by kernel/, err);
    // tcpdump -C names the pieces rot.pcap, rot.pcap1, rot.pcap2, …: their real order is numeric.
    const number = (f: string): number => Number(f.slice('rot.pcap'.length) || 0);
    pieces = readdirSync(dir)
      .filter((f) => f.startsWith('rot.pcap'))
      .sort((a, b) => number(a) - number(b))
      .map((f) => join(dir, f));
  });
  after(async () => {
    await ns.destroy();
  });

  it('reads the pieces in any order exactly as the one file they make', async () => {
    assert.ok(pieces.length >= 4, `tcpdump -C 1 wrote ${pieces.length} pieces`);
    const whole = join(dir, 'whole.pcap');
    execFileSync('mergecap', ['-a', '-F', 'pcap', '-w', whole, ...pieces]);
    const expected = records((await runCli(['analyze', '--json', whole])).stdout);
    assert.equal(expected.connections.length, CONNECTIONS + 1);
    assert.deepEqual(expected.connections.map((c) => c['conn_state']), [...Array<string>(CONNECTIONS).fill('SF'), 'REJ']);
    // The order a shell's glob gives (rot.pcap10 before rot.pcap2), reversed, and shuffled.
    const globbed = [...pieces].sort();
    for (const order of [globbed, [...pieces].reverse(), [...pieces.slice(2), ...pieces.slice(0, 2)]]) {
      const r = await runCli(['analyze', '--json', ...order]);
      assert.equal(r.code, 0, r.stderr);
      const got = records(r.stdout);
      assert.deepEqual(got.connections, expected.connections);
      assert.equal(got.summary['frames'], expected.summary['frames']);
      assert.equal(got.summary['file'], pieces[0]);
      assert.deepEqual(
        (got.summary['files'] as Array<{ file: string }>).map((f) => f.file),
        pieces,
      );
      assert.deepEqual(got.summary['capture_faults'], {});
    }
    // The text report reads them the same way.
    const text = await runCli(['analyze', ...globbed]);
    assert.match(text.stdout, /refused — 1 finding/);
    assert.match(text.stdout, new RegExp(`${CONNECTIONS + 1} connections`));
  });
});

describe('pieces built byte by byte', () => {
  const t0 = 1700000000;
  const conn = (i: number, t: number): TcpSegmentSpec[] => handshakeDataClose(t, '10.0.0.1', `10.0.1.${i}`);
  const piece = (name: string, segs: TcpSegmentSpec[], t: number): string => {
    const path = join(dir, name);
    writeFileSync(path, pcapFile(segs.map((s, k) => ({ ts: t + k * 0.001, data: ethernet(tcpIpPacket(s)) }))));
    return path;
  };

  it('a ring buffer that wrapped is read from its oldest piece; overlapping pieces are counted as a fault', async () => {
    // Ring files 0..2, where file 0 was overwritten last: its packets are the newest.
    const ring0 = piece('ring0.pcap', conn(1, t0 + 20), t0 + 20);
    const ring1 = piece('ring1.pcap', conn(2, t0), t0);
    const ring2 = piece('ring2.pcap', conn(3, t0 + 10), t0 + 10);
    const r = records((await runCli(['analyze', '--json', ring0, ring1, ring2])).stdout);
    assert.deepEqual(r.connections.map((c) => (c['resp'] as { addr: string }).addr), ['10.0.1.2', '10.0.1.3', '10.0.1.1']);
    assert.deepEqual((r.summary['files'] as Array<{ file: string }>).map((f) => f.file), [ring1, ring2, ring0]);
    // Frame numbers run through the pieces.
    assert.deepEqual(r.connections.map((c) => (c['packets'] as { first: number }).first), [1, 11, 21]);

    // Two pieces that overlap in time cannot be read one after the other without going back in time.
    const a = piece('overlap-a.pcap', [...conn(4, t0), ...conn(5, t0 + 0.05)], t0);
    const b = piece('overlap-b.pcap', conn(6, t0 + 0.005), t0 + 0.005);
    const o = records((await runCli(['analyze', '--json', a, b])).stdout);
    assert.deepEqual(o.summary['capture_faults'], { files_overlap: 1 });
  });

  it('pieces cut off, empty, or of a link type tcpsleuth cannot read are named and skipped (exit 3); the others are reported', async () => {
    const first = piece('cut-1.pcap', conn(1, t0), t0);
    const whole = pcapFile(conn(2, t0 + 10).map((s, k) => ({ ts: t0 + 10 + k * 0.001, data: ethernet(tcpIpPacket(s)) })));
    const cut = join(dir, 'cut-2.pcap');
    writeFileSync(cut, whole.subarray(0, whole.length - 7));
    const empty = join(dir, 'cut-0-empty.pcap');
    writeFileSync(empty, '');
    const foreign = join(dir, 'cut-3-dlt147.pcap');
    writeFileSync(foreign, pcapFile(conn(3, t0 + 20).map((s, k) => ({ ts: t0 + 20 + k * 0.001, data: ethernet(tcpIpPacket(s)) })), { linkType: 147 }));
    const later = piece('cut-4.pcap', conn(4, t0 + 30), t0 + 30);
    const r = await runCli(['analyze', '--json', later, foreign, cut, empty, first]);
    assert.equal(r.code, 3, r.stderr);
    const lines = r.stderr.trim().split('\n');
    assert.equal(lines.length, 3, r.stderr);
    assert.match(lines[0]!, /cut-0-empty\.pcap, byte offset 0: the capture is empty/);
    assert.match(lines[1]!, /cut-2\.pcap.*the file ends inside a record/);
    assert.match(lines[2]!, /cut-3-dlt147\.pcap, frame 1.*link type 147 is not supported/);
    const got = records(r.stdout);
    // Pieces 1 and 4 whole, and piece 2 up to its cut (its connection, short of the last segment).
    assert.deepEqual(got.connections.map((c) => (c['resp'] as { addr: string }).addr), ['10.0.1.1', '10.0.1.2', '10.0.1.4']);
    assert.equal(got.summary['error'], null);
    const files = got.summary['files'] as Array<{ file: string; frames: number; error: { code: string } | null }>;
    assert.deepEqual(files.map((f) => [f.file, f.error?.code ?? null]), [
      [empty, 'TSL_ERR_NOT_A_CAPTURE'],
      [first, null],
      [cut, 'TSL_ERR_TRUNCATED'],
      [foreign, 'TSL_ERR_LINKTYPE'],
      [later, null],
    ]);
    assert.equal(got.summary['file'], first);
    // The text report says the same.
    const text = await runCli(['analyze', later, foreign, cut, empty, first]);
    assert.equal(text.code, 3);
    assert.match(text.stdout, /5 files read as one capture, in the order of their first packets\nunreadable, skipped: .*cut-0-empty\.pcap.*\ndamaged: .*cut-2\.pcap.* — the report covers the other files, and this one up to the fault/);
    // Nothing readable at all: the first fault is the error (exit 2), as for one file.
    const none = await runCli(['analyze', empty, foreign]);
    assert.equal(none.code, 2);
    // Each says why.
    assert.match(none.stderr, /^tcpsleuth: .*cut-3-dlt147\.pcap.*link type 147 is not supported.*\ntcpsleuth: .*cut-0-empty\.pcap, byte offset 0: the capture is empty\n$/);
    // A directory among the files is one more piece that cannot be read.
    const withDir = await runCli(['analyze', '--json', first, dir]);
    assert.equal(withDir.code, 3, withDir.stderr);
    assert.match(withDir.stderr, /is a directory/);
  });

  it('gzip and pcapng pieces join pcap ones; "-" and pipes do not mix with files', async () => {
    const plain = piece('mix-1.pcap', conn(1, t0), t0);
    const gz = join(dir, 'mix-2.pcap.gz');
    writeFileSync(gz, gzipSync(pcapFile(conn(2, t0 + 10).map((s, k) => ({ ts: t0 + 10 + k * 0.001, data: ethernet(tcpIpPacket(s)) })))));
    const ng = join(dir, 'mix-3.pcapng');
    writeFileSync(ng, pcapngFile([{ interfaces: [{ linkType: 1 }], frames: conn(3, t0 + 20).map((s, k) => ({ ts: t0 + 20 + k * 0.001, data: ethernet(tcpIpPacket(s)) })) }]));
    const r = await runCli(['analyze', '--json', ng, gz, plain]);
    assert.equal(r.code, 0, r.stderr);
    const got = records(r.stdout);
    assert.deepEqual(got.connections.map((c) => (c['resp'] as { addr: string }).addr), ['10.0.1.1', '10.0.1.2', '10.0.1.3']);
    assert.deepEqual((got.summary['files'] as Array<{ format: string; compressed: boolean }>).map((f) => [f.format, f.compressed]), [['pcap', false], ['pcap', true], ['pcapng', false]]);

    const mixed = await runCli(['analyze', plain, '-']);
    assert.equal(mixed.code, 2);
    assert.match(mixed.stderr, /"-" \(standard input\) cannot be read together with files/);
    // A FIFO among files: finding the order would have used up its bytes.
    const fifo = join(dir, 'mix-fifo');
    execFileSync('mkfifo', [fifo]);
    const viaFifo = await runCli(['analyze', plain, fifo], { timeoutMs: 20_000 });
    assert.equal(viaFifo.code, 2, viaFifo.stderr);
    assert.match(viaFifo.stderr, /several captures are read as one only from files, and .*mix-fifo is a pipe or a device \(read it alone\)/);
  });
});
