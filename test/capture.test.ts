/**
 * Capture readers: every pcap and pcapng variant the issue lists, gzip, and chunk boundaries at
 * every byte (one read is never one record).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { analyzeBuffer } from './helpers/analyze-buffer.js';
import { ethernet, gzip, handshakeDataClose, ipPacket, pcapFile, pcapngFile, tcpIpPacket, tcpSegment, type FrameSpec } from './helpers/capture-builder.js';

const T0 = 1700000000.25;
const conversation = handshakeDataClose();
const ethFrames: FrameSpec[] = conversation.map((s, i) => ({ ts: T0 + i * 0.001, data: ethernet(tcpIpPacket(s)) }));

async function oneConnection(file: Buffer, chunks?: number[] | number) {
  const r = await analyzeBuffer(file, {}, chunks);
  assert.equal(r.error, null, r.error?.describe());
  assert.equal(r.connections.length, 1);
  return { c: r.connections[0]!, s: r.summary! };
}

describe('pcap reader', () => {
  for (const bigEndian of [false, true]) {
    for (const nanoseconds of [false, true]) {
      it(`reads ${bigEndian ? 'big' : 'little'}-endian files with ${nanoseconds ? 'nano' : 'micro'}second timestamps`, async () => {
        const { c, s } = await oneConnection(pcapFile(ethFrames, { bigEndian, nanoseconds }));
        assert.equal(s.format, 'pcap');
        assert.equal(s.frames, 10);
        assert.deepEqual(s.link_types, { '1': { name: 'EN10MB (Ethernet)', frames: 10 } });
        assert.equal(c.conn_state, 'SF');
        assert.equal(c.history, 'ShADadfF');
        assert.deepEqual(c.orig, { addr: '10.0.0.1', port: 40000 });
        assert.deepEqual(c.resp, { addr: '10.0.0.2', port: 80 });
        assert.equal(c.first, T0);
        assert.equal(c.last, T0 + 0.009);
        assert.deepEqual(c.packets, { first: 1, last: 10 });
        assert.equal(c.orig_bytes, 18);
        assert.equal(c.resp_bytes, 24);
        assert.equal(c.orig_pkts, 5);
        assert.equal(c.resp_pkts, 5);
      });
    }
  }

  it('keeps the wire length of records cut by the snaplen and counts them', async () => {
    const frames = ethFrames.map((f) => {
      const d = [...f.data];
      return d.length > 70 ? { ts: f.ts, data: d.slice(0, 70), origLen: d.length } : f;
    });
    // 70 bytes keep every header (the SYNs with options are 66) but cut both payloads.
    const { c, s } = await oneConnection(pcapFile(frames, { snaplen: 70 }));
    assert.equal(s.snaplen_truncated_frames, 2);
    // Payload lengths come from the IP header, so sizes survive the snaplen; the payload that was
    // ACKed but not captured is missed, exactly as Zeek counts a headers-only capture (G, g).
    assert.equal(c.history, 'ShADaGdgfF');
    assert.equal(c.orig_bytes, 18);
    assert.equal(c.resp_bytes, 24);
    assert.equal(c.missed_bytes, 42);
  });

  it('gives the same result whatever the chunk boundaries (every split point, and one byte at a time)', async () => {
    const file = pcapFile(ethFrames);
    const whole = await oneConnection(file);
    for (let cut = 1; cut < file.length; cut++) {
      const { c } = await oneConnection(file, [cut, file.length - cut]);
      assert.deepEqual(c, whole.c, `split at byte ${cut}`);
    }
    const { c } = await oneConnection(file, 1);
    assert.deepEqual(c, whole.c);
  });

  it('reads gzip-compressed files', async () => {
    const { c, s } = await oneConnection(gzip(pcapFile(ethFrames)), 7);
    assert.equal(s.compressed, true);
    assert.equal(c.history, 'ShADadfF');
  });
});

describe('pcapng reader', () => {
  it('reads several sections of both byte orders, several interfaces with their own link types and timestamp resolutions', async () => {
    const rawFrames: FrameSpec[] = conversation.slice(0, 5).map((s, i) => ({ ts: T0 + i * 0.001, data: tcpIpPacket(s), iface: 1 }));
    const file = pcapngFile([
      {
        interfaces: [{ linkType: 1 }, { linkType: 228, tsresol: 9 }],
        frames: rawFrames,
        unknownBlocks: 2,
      },
      {
        bigEndian: true,
        interfaces: [{ linkType: 1, tsresol: 0x80 | 20 }],
        frames: conversation.slice(5).map((s, i) => ({ ts: T0 + (5 + i) * 0.001, data: ethernet(tcpIpPacket(s)) })),
        unknownBlocks: 1,
      },
    ]);
    const r = await analyzeBuffer(file, {}, 13);
    assert.equal(r.error, null, r.error?.describe());
    assert.equal(r.summary!.format, 'pcapng');
    assert.equal(r.summary!.frames, 10);
    assert.deepEqual(r.summary!.link_types, { '1': { name: 'EN10MB (Ethernet)', frames: 5 }, '228': { name: 'IPV4 (raw IPv4)', frames: 5 } });
    assert.equal(r.connections.length, 1);
    const c = r.connections[0]!;
    assert.equal(c.history, 'ShADadfF');
    assert.equal(c.first, T0);
    // 2^-20 s resolution: within a microsecond of the real time.
    assert.ok(Math.abs(c.last - (T0 + 0.009)) <= 1e-6, String(c.last));
  });

  it('reads simple packet blocks and the obsolete packet block', async () => {
    for (const blockType of ['spb', 'pb'] as const) {
      const file = pcapngFile([{ interfaces: [{ linkType: 1 }], frames: ethFrames, blockType }]);
      const r = await analyzeBuffer(file, {}, 5);
      assert.equal(r.error, null, r.error?.describe());
      assert.equal(r.summary!.frames, 10, blockType);
      assert.equal(r.connections[0]!.history, 'ShADadfF', blockType);
    }
  });

  it('counts packets on an interface that was never described, and goes on', async () => {
    const frames = ethFrames.map((f, i) => (i === 3 ? { ...f, iface: 5 } : f));
    const file = pcapngFile([{ interfaces: [{ linkType: 1 }, { linkType: 1 }, { linkType: 1 }, { linkType: 1 }, { linkType: 1 }, { linkType: 1 }], frames }]);
    const broken = Buffer.from(file);
    const r = await analyzeBuffer(broken);
    assert.equal(r.error, null);
    assert.equal(r.summary!.frames, 10);
    const only = pcapngFile([{ interfaces: [{ linkType: 1 }], frames }]);
    const r2 = await analyzeBuffer(only);
    assert.equal(r2.summary!.frames, 9);
    assert.deepEqual(r2.summary!.capture_faults, { packet_on_unknown_interface: 1 });
  });

  it('gives the same result whatever the chunk boundaries', async () => {
    const file = pcapngFile([{ interfaces: [{ linkType: 1 }], frames: ethFrames }]);
    const whole = await analyzeBuffer(file);
    for (let cut = 1; cut < file.length; cut += 3) {
      const r = await analyzeBuffer(file, {}, [cut, file.length - cut]);
      assert.deepEqual(r.connections, whole.connections, `split at byte ${cut}`);
    }
  });

  it('reads gzip-compressed pcapng', async () => {
    const r = await analyzeBuffer(gzip(pcapngFile([{ interfaces: [{ linkType: 1 }], frames: ethFrames }])));
    assert.equal(r.summary!.compressed, true);
    assert.equal(r.summary!.format, 'pcapng');
    assert.equal(r.connections[0]!.conn_state, 'SF');
  });
});

describe('streaming', () => {
  it('yields connections before the end of the input once their timers expire', async () => {
    // Connection A closes at t=0; a packet 60 s later of another connection ends A's record.
    const a = conversation.map((s, i) => ({ ts: T0 + i * 0.001, data: ethernet(tcpIpPacket(s)) }));
    const later = { ts: T0 + 60, data: ethernet(ipPacket('10.9.9.9', '10.9.9.8', 6, tcpSegment({ src: '10.9.9.9', dst: '10.9.9.8', sport: 1, dport: 2, seq: 1, flags: 'S' }))) };
    const r = await analyzeBuffer(pcapFile([...a, later]));
    assert.equal(r.connections.length, 2);
    assert.equal(r.connections[0]!.end_reason, 'timeout');
    assert.equal(r.connections[1]!.end_reason, 'end_of_capture');
  });
});
