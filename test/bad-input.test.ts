/**
 * Bad input gets one clear sentence, a documented exit status, and loses nothing: every
 * connection seen before a fatal fault is still reported.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { constants, deflateRawSync } from 'node:zlib';
import { ethernet, gzip, handshakeDataClose, pcapFile, pcapngFile, tcpIpPacket, type FrameSpec, type TcpSegmentSpec } from './helpers/capture-builder.js';
import { jsonLines, runCli } from './helpers/run-cli.js';

const dir = mkdtempSync(join(tmpdir(), 'tsl-bad-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, bytes: Buffer | string): string {
  const p = join(dir, name);
  writeFileSync(p, bytes);
  return p;
}

/** Two complete connections, the second starting well after the first. */
const frames: FrameSpec[] = [
  ...handshakeDataClose().map((s, i) => ({ ts: 1700000000 + i * 0.01, data: ethernet(tcpIpPacket(s)) })),
  ...handshakeDataClose(0, '10.0.0.3', '10.0.0.4').map((s, i) => ({ ts: 1700000001 + i * 0.01, data: ethernet(tcpIpPacket(s)) })),
];
const good = pcapFile(frames);
/** Byte offset of record n (0-based) in `good`. */
function recordOffset(n: number): number {
  let off = 24;
  for (let i = 0; i < n; i++) off += 16 + frames[i]!.data.length;
  return off;
}

describe('unreadable input: exit 2 and one sentence', () => {
  it('a text file', async () => {
    const r = await runCli(['analyze', file('notes.txt', 'hello, this is not a capture\n')]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /notes\.txt.*not a pcap or pcapng file.*looks like text/);
    assert.equal(r.stderr.trim().split('\n').length, 1);
  });
  it('an empty file', async () => {
    const r = await runCli(['analyze', file('empty.pcap', '')]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /the capture is empty/);
  });
  it('a missing file and a directory', async () => {
    const r = await runCli(['analyze', join(dir, 'nope.pcap')]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /nope\.pcap: cannot read the capture: no such file/);
    const d = await runCli(['analyze', dir]);
    assert.equal(d.code, 2);
    assert.match(d.stderr, /is a directory/);
  });
  it('an unknown link type', async () => {
    const r = await runCli(['analyze', file('dlt147.pcap', pcapFile(frames.slice(0, 2), { linkType: 147 }))]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /frame 1.*link type 147 is not supported \(supported: 0 NULL/);
  });
  it('a pcapng file whose every interface has an unknown link type, and one with a readable interface too', async () => {
    const r = await runCli(['analyze', file('dlt147.pcapng', pcapngFile([{ interfaces: [{ linkType: 147 }, { linkType: 148 }], frames: frames.map((f, i) => ({ ...f, iface: i % 2 })) }]))]);
    assert.equal(r.code, 2);
    assert.equal(r.stdout, '');
    assert.match(r.stderr, /dlt147\.pcapng: no frame is of a supported link type \(this capture has 147, 148; supported: 0 NULL/);
    // One interface readable: its frames are analysed, the others counted as malformed.
    const mixed = pcapngFile([{ interfaces: [{ linkType: 147 }, { linkType: 1 }], frames: frames.map((f) => ({ ...f, iface: 1 })).concat([{ ...frames[0]!, iface: 0 }]) }]);
    const m = await runCli(['analyze', '--json', file('mixed.pcapng', mixed)]);
    assert.equal(m.code, 0, m.stderr);
    const summary = jsonLines(m.stdout).at(-1)!;
    assert.equal(summary['connections'], 2);
    assert.deepEqual(summary['malformed'], { unknown_link_type: 1 });
  });
  it('bad usage', async () => {
    assert.equal((await runCli(['analyze'])).code, 2);
    assert.equal((await runCli(['analyze', '--port', 'http', 'x.pcap'])).code, 2);
    assert.equal((await runCli(['analyze', '--bogus', 'x.pcap'])).code, 2);
    assert.equal((await runCli(['frobnicate'])).code, 2);
    const r = await runCli(['analyze', '--host', '10.0.0.999', file('ok1.pcap', good)]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /--host "10\.0\.0\.999" is not an IPv4 or IPv6 address/);
  });
});

describe('damaged input: exit 3, everything before the fault reported', () => {
  it('a file cut off in the middle of a record', async () => {
    const cut = recordOffset(15) + 20;
    const r = await runCli(['analyze', '--json', file('cut.pcap', good.subarray(0, cut))]);
    assert.equal(r.code, 3);
    assert.match(r.stderr, /cut\.pcap, frame 16, byte offset \d+: the file ends inside a record/);
    const recs = jsonLines(r.stdout);
    const conns = recs.filter((x) => x['type'] === 'connection');
    const summary = recs.find((x) => x['type'] === 'summary')!;
    assert.equal(conns.length, 2);
    assert.equal(conns[0]!['conn_state'], 'SF');
    assert.equal(summary['frames'], 15);
    assert.deepEqual((summary['error'] as Record<string, unknown>)['code'], 'TSL_ERR_TRUNCATED');
    assert.equal((summary['error'] as Record<string, unknown>)['offset'], recordOffset(15));
    // The text report says so on stdout too, after the two connections it still shows.
    const text = await runCli(['analyze', join(dir, 'cut.pcap')]);
    assert.equal(text.code, 3);
    assert.match(text.stdout, /^1\s.*SF/m);
    assert.match(text.stdout, /^2\s.*S1/m);
    assert.match(text.stdout, /\ndamaged: .*cut\.pcap, frame 16, byte offset \d+: the file ends inside a record.* — the report covers what came before\n$/);
  });
  it('a corrupt record length', async () => {
    const bad = Buffer.from(good);
    bad.writeUInt32LE(0x7fffffff, recordOffset(12) + 8);
    const r = await runCli(['analyze', '--json', file('corrupt.pcap', bad)]);
    assert.equal(r.code, 3);
    assert.match(r.stderr, /frame 13, byte offset \d+: record length 2147483647 is larger than any packet can be/);
    const summary = jsonLines(r.stdout).find((x) => x['type'] === 'summary')!;
    assert.equal(summary['frames'], 12);
    assert.equal((summary['error'] as Record<string, unknown>)['frame'], 13);
  });
  it('a cut-off gzip file', async () => {
    const gz = gzip(good);
    const r = await runCli(['analyze', '--json', file('cut.pcap.gz', gz.subarray(0, gz.length - 30))]);
    assert.equal(r.code, 3);
    assert.match(r.stderr, /cut\.pcap\.gz, frame \d+, byte offset \d+: the gzip stream ends early/);
    assert.ok(jsonLines(r.stdout).some((x) => x['type'] === 'summary'));
  });
  it('gzip: garbage after the last member is ignored and counted, zero padding is not even counted, members are read in turn', async () => {
    const gz = gzip(good);
    const cases: [string, Buffer, Record<string, number>][] = [
      ['garbage', Buffer.concat([gz, Buffer.from('JUNK')]), { gzip_trailing_garbage: 1 }],
      ['padding', Buffer.concat([gz, Buffer.alloc(512)]), {}],
      ['two members', Buffer.concat([gzip(good.subarray(0, 100)), gzip(good.subarray(100))]), {}],
    ];
    for (const [name, bytes, faults] of cases) {
      const r = await runCli(['analyze', '--json', file(`${name}.pcap.gz`, bytes)]);
      assert.equal(r.code, 0, `${name}: ${r.stderr}`);
      const summary = jsonLines(r.stdout).at(-1)!;
      assert.equal(summary['frames'], frames.length, name);
      assert.deepEqual(summary['capture_faults'], faults, name);
    }
  });
  it('gzip: a CRC that does not match is corrupt input, with every frame reported', async () => {
    const gz = Buffer.from(gzip(good));
    gz.writeUInt32LE(gz.readUInt32LE(gz.length - 8) ^ 1, gz.length - 8);
    const r = await runCli(['analyze', '--json', file('crc.pcap.gz', gz)]);
    assert.equal(r.code, 3);
    assert.match(r.stderr, /crc\.pcap\.gz, frame \d+, byte offset \d+: the gzip stream is corrupt \(a member's CRC-32 does not match its data\)/);
    assert.equal(jsonLines(r.stdout).at(-1)!['frames'], frames.length);
  });
  it('gzip: corruption part-way loses at most 64 KiB of what came before it', async () => {
    // 3,000 frames (about 1 MB). The first two thirds are compressed and flushed to a byte
    // boundary, and a block of the reserved type 3 follows: the deflate stream is invalid exactly
    // there, and everything before it can be decompressed.
    const many: FrameSpec[] = Array.from({ length: 3000 }, (_, i) => ({
      ts: 1700000000 + i * 0.001,
      data: ethernet(tcpIpPacket({ src: '10.1.0.1', dst: '10.1.0.2', sport: 40000 + (i % 50), dport: 80, seq: i * 1000, ack: 1, flags: 'PA', payload: `GET /items/${i * 7919} HTTP/1.1\r\n\r\n` })),
    }));
    const plain = pcapFile(many);
    const valid = Math.floor((plain.length * 2) / 3);
    const body = deflateRawSync(plain.subarray(0, valid), { finishFlush: constants.Z_FULL_FLUSH });
    const header = Buffer.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3]);
    const gz = Buffer.concat([header, body, Buffer.from([0x07]), Buffer.alloc(8)]);
    const r = await runCli(['analyze', '--json', file('corrupt.pcap.gz', gz)]);
    assert.equal(r.code, 3, r.stderr);
    assert.match(r.stderr, /corrupt\.pcap\.gz, frame \d+, byte offset \d+: the gzip stream is corrupt \(invalid block type\)/);
    const summary = jsonLines(r.stdout).at(-1)!;
    const frameBytes = 16 + many[0]!.data.length;
    const reported = 24 + (summary['frames'] as number) * frameBytes;
    assert.ok(reported <= valid && reported >= valid - (64 << 10) - frameBytes, `frames up to byte ${reported} reported, ${valid} valid`);
  });
  it('a pcapng block whose two lengths disagree', async () => {
    const ng = pcapngFile([{ interfaces: [{ linkType: 1 }], frames }]);
    // The 5th block is the third packet block (SHB, IDB, EPB, EPB, EPB...): break its trailing length.
    let off = 0;
    for (let i = 0; i < 4; i++) off += ng.readUInt32LE(off + 4);
    const len = ng.readUInt32LE(off + 4);
    const bad = Buffer.from(ng);
    bad.writeUInt32LE(len + 4, off + len - 4);
    const r = await runCli(['analyze', '--json', file('bad.pcapng', bad)]);
    assert.equal(r.code, 3);
    assert.match(r.stderr, /does not match the length at its end/);
    const summary = jsonLines(r.stdout).find((x) => x['type'] === 'summary')!;
    assert.equal(summary['frames'], 2);
  });
});

describe('non-fatal damage is counted, not fatal', () => {
  it('garbage network headers are counted by reason and the rest is analysed', async () => {
    const garbage: FrameSpec[] = [
      { ts: 1700000002, data: ethernet([0x45, 0, 0, 10, 0, 0, 0, 0]) }, // IPv4 header cut short
      { ts: 1700000002.1, data: ethernet([0x75, 1, 2, 3]) }, // IP version 7
      { ts: 1700000002.2, data: [1, 2, 3] }, // shorter than an Ethernet header
      { ts: 1700000002.3, data: ethernet([0x45, 0, 0, 40, 0, 0, 0, 0, 64, 6, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2, 0, 1, 0, 2]) }, // TCP header cut
    ];
    const r = await runCli(['analyze', '--json', file('garbage.pcap', pcapFile([...frames, ...garbage]))]);
    assert.equal(r.code, 0, r.stderr);
    const summary = jsonLines(r.stdout).find((x) => x['type'] === 'summary')!;
    assert.deepEqual(summary['malformed'], { truncated_ip_header: 1, bad_ip_version: 1, truncated_link_header: 1, truncated_tcp_header: 1 });
    assert.equal(summary['connections'], 2);
  });
  it('the text report lists malformed frames in its summary', async () => {
    const r = await runCli(['analyze', file('garbage2.pcap', pcapFile([...frames, { ts: 1700000003, data: ethernet([0x75, 1, 2, 3]) }]))]);
    assert.equal(r.code, 0);
    assert.match(r.stdout, /malformed frames \(skipped\): bad_ip_version 1/);
  });
});

describe('exit status on request', () => {
  it('--fail-on exits 1 when a connection ends in a listed state, 0 otherwise', async () => {
    const p = file('ok.pcap', good);
    assert.equal((await runCli(['analyze', '--fail-on', 'failed', p])).code, 0);
    assert.equal((await runCli(['analyze', '--fail-on', 'SF', p])).code, 1);
    assert.equal((await runCli(['analyze', '--fail-on', 'NOPE', p])).code, 2);
  });

  it('--fail-on failures ignores observations, --fail-on findings does not', async () => {
    // A request the server acknowledged and never answered (an observation), 5 s of silence,
    // then a lone SYN elsewhere (too short to say anything about).
    const c = { src: '10.0.0.1', dst: '10.0.0.2', sport: 40000, dport: 80 };
    const s = { src: '10.0.0.2', dst: '10.0.0.1', sport: 80, dport: 40000 };
    const segs: TcpSegmentSpec[] = [
      { ...c, seq: 100, flags: 'S' },
      { ...s, seq: 500, ack: 101, flags: 'SA' },
      { ...c, seq: 101, ack: 501, flags: 'A' },
      { ...c, seq: 101, ack: 501, flags: 'PA', payload: 'GET / HTTP/1.1\r\n\r\n' },
      { ...s, seq: 501, ack: 119, flags: 'A' },
    ];
    const hung: FrameSpec[] = segs.map((x, i) => ({ ts: 1700000000 + i * 0.001, data: ethernet(tcpIpPacket(x)) }));
    hung.push({ ts: 1700000005, data: ethernet(tcpIpPacket({ src: '10.0.0.3', dst: '10.0.0.4', sport: 41000, dport: 443, seq: 1, flags: 'S' })) });
    const p = file('hung.pcap', pcapFile(hung));
    const json = jsonLines((await runCli(['analyze', '--json', p])).stdout);
    assert.deepEqual(json.filter((x) => x['type'] === 'connection').map((x) => (x['findings'] as { kind: string }[]).map((f) => f.kind)), [['unanswered-request'], []]);
    assert.equal((await runCli(['analyze', '--fail-on', 'failures', p])).code, 0);
    assert.equal((await runCli(['analyze', '--fail-on', 'findings', p])).code, 1);
    assert.equal((await runCli(['analyze', '--fail-on', 'failures', file('refused.pcap', pcapFile([
      { ts: 1700000000, data: ethernet(tcpIpPacket({ ...c, seq: 100, flags: 'S' })) },
      { ts: 1700000000.001, data: ethernet(tcpIpPacket({ ...s, seq: 0, ack: 101, flags: 'RA' })) },
    ]))])).code, 1);
  });
});
