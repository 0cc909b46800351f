/**
 * What counts as a copy of a packet from another interface, and what does not: a pcapng file
 * with two interfaces, built byte by byte so each condition can be varied on its own.
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { handshakeDataClose, pcapngFile, tcpIpPacket, ethernet, type FrameSpec, type TcpSegmentSpec } from './helpers/capture-builder.js';
import { analyzeBuffer } from './helpers/analyze-buffer.js';

const t0 = 1700000000;
const segments: TcpSegmentSpec[] = handshakeDataClose(t0).map((s, i) => ({ ...s, ipId: 100 + i }));

/** The connection's segments 10 ms apart on interface 0, and after segment `at` one more frame made by `extra`. */
function withExtra(at: number, extra: (s: TcpSegmentSpec) => { spec: TcpSegmentSpec; iface: number; dt: number }): Buffer {
  const frames: FrameSpec[] = [];
  segments.forEach((s, i) => {
    frames.push({ ts: t0 + i * 0.01, data: ethernet(tcpIpPacket(s)), iface: 0 });
    if (i === at) {
      const e = extra(s);
      frames.push({ ts: t0 + i * 0.01 + e.dt, data: ethernet(tcpIpPacket(e.spec)), iface: e.iface });
    }
  });
  return pcapngFile([{ interfaces: [{ linkType: 1 }, { linkType: 1 }], frames }]);
}

async function analyzed(b: Buffer): Promise<{ history: string; origPkts: number; copies: number }> {
  const r = await analyzeBuffer(b);
  assert.equal(r.error, null);
  assert.equal(r.connections.length, 1);
  return { history: r.connections[0]!.history, origPkts: r.connections[0]!.orig_pkts, copies: r.summary!.capture_copies };
}

it('the same segment from another interface within 2 ms is a copy: counted once, nothing retransmitted', async () => {
  const plain = await analyzed(withExtra(-1, (s) => ({ spec: s, iface: 1, dt: 0 })));
  for (const at of [0, 3, 9]) {
    const r = await analyzed(withExtra(at, (s) => ({ spec: s, iface: 1, dt: 0.00003 })));
    assert.deepEqual(r, { ...plain, copies: 1 }, `a copy of segment ${at}`);
  }
});

it('copies of several connections interleaved (a busy bridge): each is compared with its own sender', async () => {
  // Two connections, each segment on interface 0 and then, after the other connection's segment,
  // on interface 1: A, B, A', B', ...
  const a = handshakeDataClose(t0, '10.0.0.1', '10.0.0.2').map((s, i) => ({ ...s, ipId: 200 + i }));
  const b = handshakeDataClose(t0, '10.0.0.3', '10.0.0.4').map((s, i) => ({ ...s, ipId: 300 + i }));
  const frames: FrameSpec[] = [];
  a.forEach((s, i) => {
    const t = t0 + i * 0.01;
    frames.push({ ts: t, data: ethernet(tcpIpPacket(s)), iface: 0 });
    frames.push({ ts: t + 0.00001, data: ethernet(tcpIpPacket(b[i]!)), iface: 0 });
    frames.push({ ts: t + 0.00002, data: ethernet(tcpIpPacket(s)), iface: 1 });
    frames.push({ ts: t + 0.00003, data: ethernet(tcpIpPacket(b[i]!)), iface: 1 });
  });
  const r = await analyzeBuffer(pcapngFile([{ interfaces: [{ linkType: 1 }, { linkType: 1 }], frames }]));
  assert.equal(r.error, null);
  assert.equal(r.summary!.capture_copies, 2 * a.length);
  for (const c of r.connections) {
    assert.equal(c.history, 'ShADadfF');
    assert.equal(c.orig_pkts + c.resp_pkts, a.length);
    assert.deepEqual(c.findings, []);
  }
});

it('not a copy: the same interface, a new IPv4 id, other bytes, or too late', async () => {
  const plain = await analyzed(withExtra(-1, (s) => ({ spec: s, iface: 1, dt: 0 })));
  const cases: [string, (s: TcpSegmentSpec) => { spec: TcpSegmentSpec; iface: number; dt: number }][] = [
    ['the same interface (a retransmission)', (s) => ({ spec: s, iface: 0, dt: 0.00003 })],
    ['a new IPv4 identification', (s) => ({ spec: { ...s, ipId: 999 }, iface: 1, dt: 0.00003 })],
    ['another window (so another checksum)', (s) => ({ spec: { ...s, window: 1234 }, iface: 1, dt: 0.00003 })],
    ['5 ms later', (s) => ({ spec: s, iface: 1, dt: 0.005 })],
  ];
  for (const [what, extra] of cases) {
    const r = await analyzed(withExtra(3, extra));
    assert.equal(r.copies, 0, what);
    assert.equal(r.origPkts, plain.origPkts + 1, what);
  }
});
