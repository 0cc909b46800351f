/**
 * Every diagnosis rule on synthetic captures built byte by byte: each scenario is a short TCP
 * conversation written the way a Linux stack would put it on the wire, encoded in several capture
 * formats and link types (pcap/Ethernet, pcapng/Linux cooked, pcap/raw IP, pcapng/cooked v2),
 * over IPv4 and IPv6, with other ports and timings, and the findings must name the right kind,
 * side, kernel reason, confidence band and errnos.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ConnectionRecord, Finding } from '../src/analyze/records.js';
import { connectionToJson } from '../src/report/json.js';
import { ATTEMPT_HORIZON, ATTEMPT_SOFT_LIMIT, DiagnosisMemory, seconds } from '../src/diagnose/context.js';
import { explainTopic, FAILURE_KINDS } from '../src/diagnose/knowledge.js';
import { ReportDigest } from '../src/report/digest.js';
import { renderFindings, renderPacketTrace } from '../src/report/text.js';
import { analyzeBuffer } from './helpers/analyze-buffer.js';
import { ethernet, ipPacket, pcapFile, pcapngFile, tcpIpPacket, type TcpSegmentSpec } from './helpers/capture-builder.js';

interface Ends {
  client: string;
  server: string;
  cport: number;
  sport: number;
}

interface Seg {
  ts: number;
  bytes: number[];
}

/** A conversation between a client and a server with automatic sequence numbers. */
class Conv {
  readonly segs: Seg[] = [];
  t: number;
  cNext: number;
  sNext: number;
  readonly cIsn: number;
  readonly sIsn: number;

  constructor(
    readonly ends: Ends,
    t0 = 1_700_000_000,
    cIsn = 0x7a000000 + ends.cport,
    sIsn = 0xd1000000 - ends.sport,
  ) {
    this.t = t0;
    this.cIsn = cIsn >>> 0;
    this.sIsn = sIsn >>> 0;
    this.cNext = this.cIsn;
    this.sNext = this.sIsn;
  }

  private send(fromClient: boolean, flags: string, o: { len?: number; payload?: string; dt?: number; seq?: number; ack?: number; ttl?: number; win?: number; options?: number[]; df?: boolean }): this {
    this.t += o.dt ?? 0.001;
    const payload = o.payload !== undefined ? Buffer.from(o.payload) : Buffer.alloc(o.len ?? 0, 0x61);
    const seq = o.seq ?? (fromClient ? this.cNext : this.sNext);
    const ack = o.ack ?? (flags.includes('A') ? (fromClient ? this.sNext : this.cNext) : 0);
    const spec: TcpSegmentSpec = {
      src: fromClient ? this.ends.client : this.ends.server,
      dst: fromClient ? this.ends.server : this.ends.client,
      sport: fromClient ? this.ends.cport : this.ends.sport,
      dport: fromClient ? this.ends.sport : this.ends.cport,
      seq: seq >>> 0,
      ack: ack >>> 0,
      flags,
      payload,
      window: o.win ?? 64000,
      options: o.options,
      ttl: o.ttl ?? 64,
      ipId: this.segs.length + 1,
      fragment: o.df === false ? 0 : undefined,
    };
    this.segs.push({ ts: this.t, bytes: tcpIpPacket(spec) });
    if (o.seq === undefined && !flags.includes('R')) {
      const adv = payload.length + (flags.includes('S') ? 1 : 0) + (flags.includes('F') ? 1 : 0);
      if (fromClient) this.cNext = (this.cNext + adv) >>> 0;
      else this.sNext = (this.sNext + adv) >>> 0;
    }
    return this;
  }

  c(flags: string, o: Parameters<Conv['send']>[2] = {}): this {
    return this.send(true, flags, o);
  }

  s(flags: string, o: Parameters<Conv['send']>[2] = {}): this {
    return this.send(false, flags, o);
  }

  handshake(): this {
    return this.c('S').s('SA').c('A');
  }

  /** A raw packet (ICMP, another flow) at the conversation's clock. */
  raw(bytes: number[], dt = 0.001): this {
    this.t += dt;
    this.segs.push({ ts: this.t, bytes });
    return this;
  }
}

type Encoding = 'pcap-ether' | 'pcapng-sll' | 'pcap-raw' | 'pcapng-sll2';

function sll(ip: number[]): number[] {
  const et = ip[0]! >> 4 === 6 ? 0x86dd : 0x0800;
  return [0, 0, 0, 1, 0, 6, 2, 0, 0, 0, 0, 1, 0, 0, et >> 8, et & 255, ...ip];
}

function sll2(ip: number[]): number[] {
  const et = ip[0]! >> 4 === 6 ? 0x86dd : 0x0800;
  return [et >> 8, et & 255, 0, 0, 0, 0, 0, 2, 0, 1, 0, 6, 2, 0, 0, 0, 0, 1, 0, 0, ...ip];
}

function encode(segs: Seg[], enc: Encoding): Buffer {
  switch (enc) {
    case 'pcap-ether':
      return pcapFile(segs.map((s) => ({ ts: s.ts, data: ethernet(s.bytes) })));
    case 'pcap-raw':
      return pcapFile(segs.map((s) => ({ ts: s.ts, data: s.bytes })), { linkType: 101, nanoseconds: true });
    case 'pcapng-sll':
      return pcapngFile([{ interfaces: [{ linkType: 113 }], frames: segs.map((s) => ({ ts: s.ts, data: sll(s.bytes) })) }]);
    case 'pcapng-sll2':
      return pcapngFile([{ interfaces: [{ linkType: 276, tsresol: 9 }], frames: segs.map((s) => ({ ts: s.ts, data: sll2(s.bytes) })) }]);
  }
}

async function analyzeConv(conv: Conv, enc: Encoding = 'pcap-ether'): Promise<ConnectionRecord[]> {
  const res = await analyzeBuffer(encode(conv.segs, enc));
  assert.equal(res.error, null);
  for (const r of res.connections) assert.equal(connectionToJson(r), JSON.stringify(r), 'hand-written JSON of findings');
  return res.connections;
}

function only(recs: ConnectionRecord[], kind: string): { r: ConnectionRecord; f: Finding } {
  const hits = recs.flatMap((r) => r.findings.filter((f) => f.kind === kind).map((f) => ({ r, f })));
  assert.equal(hits.length, 1, `one ${kind} finding; got ${JSON.stringify(recs.map((r) => r.findings.map((f) => `${f.kind}/${f.by}/${f.reason}`)))}`);
  return hits[0]!;
}

function resetBy(recs: ConnectionRecord[], by: 'orig' | 'resp'): Finding[] {
  return recs.flatMap((r) => r.findings.filter((f) => f.by === by && f.reason !== 'NONE'));
}

/** A window-scale option (RFC 7323) announcing `shift`, after a NOP for alignment. */
function wscale(shift: number): number[] {
  return [1, 3, 3, shift];
}

const V4: Ends = { client: '10.1.2.3', server: '10.9.8.7', cport: 40123, sport: 8080 };
const V6: Ends = { client: '2001:db8::c1', server: '2001:db8:ff::5', cport: 51515, sport: 443 };
const MATRIX: Array<[string, Ends, Encoding]> = [
  ['IPv4 pcap/Ethernet', V4, 'pcap-ether'],
  ['IPv6 pcapng/Linux cooked', V6, 'pcapng-sll'],
  ['IPv4 pcap/raw IP', { ...V4, cport: 33333, sport: 5432 }, 'pcap-raw'],
  ['IPv6 pcapng/cooked v2', { ...V6, cport: 60001, sport: 9000 }, 'pcapng-sll2'],
];

describe('diagnosis rules on synthetic captures', () => {
  for (const [name, ends, enc] of MATRIX) {
    describe(name, () => {
      it('refused: SYN answered by RST+ACK → NO_SOCKET, ECONNREFUSED', async () => {
        const cv = new Conv(ends);
        cv.c('S').s('RA', { seq: 0, ack: cv.cNext });
        const recs = await analyzeConv(cv, enc);
        const { r, f } = only(recs, 'refused');
        assert.equal(r.conn_state, 'REJ');
        assert.equal(f.by, 'resp');
        assert.equal(f.reason, 'NO_SOCKET');
        assert.ok(f.confidence >= 0.9);
        assert.deepEqual(f.errno, { orig: 'ECONNREFUSED', resp: null });
        assert.deepEqual(f.frames, [1, 2]);
      });

      it('close() with unread data: RST instead of FIN after unanswered data → TCP_ABORT_ON_CLOSE', async () => {
        const cv = new Conv(ends).handshake();
        cv.c('PA', { len: 300 }).s('A').s('RA', { dt: 0.1 });
        const recs = await analyzeConv(cv, enc);
        const f = resetBy(recs, 'resp');
        assert.equal(f.length, 1);
        assert.equal(f[0]!.kind, 'reset');
        assert.equal(f[0]!.reason, 'TCP_ABORT_ON_CLOSE');
        assert.equal(f[0]!.state, 'TCP_ESTABLISHED');
        assert.ok(f[0]!.confidence >= 0.8);
        assert.deepEqual(f[0]!.errno, { orig: 'ECONNRESET', resp: null });
        assert.ok(f[0]!.frames.includes(4) && f[0]!.frames.includes(6));
      });

      it('SO_LINGER {1,0} with nothing unread: the peer sent no data → TCP_STATE', async () => {
        const cv = new Conv(ends).handshake();
        cv.c('PA', { len: 5 }).s('A').c('RA', { dt: 0.05 });
        const recs = await analyzeConv(cv, enc);
        const f = resetBy(recs, 'orig');
        assert.equal(f.length, 1);
        assert.equal(f[0]!.reason, 'TCP_STATE');
        assert.deepEqual(f[0]!.errno, { orig: null, resp: 'ECONNRESET' });
      });

      it('abort after answering everything: the wire cannot tell → UNKNOWN with both candidates', async () => {
        const cv = new Conv(ends).handshake();
        cv.c('PA', { len: 40 }).s('PA', { len: 900 }).c('A').s('RA', { dt: 0.2 });
        const recs = await analyzeConv(cv, enc);
        const f = resetBy(recs, 'resp');
        assert.equal(f.length, 1);
        assert.equal(f[0]!.reason, 'UNKNOWN');
        assert.deepEqual([...f[0]!.candidates!].sort(), ['TCP_ABORT_ON_CLOSE', 'TCP_STATE']);
        assert.ok(f[0]!.confidence <= 0.5);
      });

      it('data after close(), FIN not yet acknowledged → TCP_ABORT_ON_DATA, the writer gets EPIPE', async () => {
        const cv = new Conv(ends).handshake();
        cv.s('FA').c('PA', { len: 100, dt: 0.01 });
        const ackOfData = cv.cNext;
        void ackOfData;
        cv.s('R', { seq: cv.sNext });
        const recs = await analyzeConv(cv, enc);
        const f = resetBy(recs, 'resp');
        assert.equal(f.length, 1);
        assert.equal(f[0]!.reason, 'TCP_ABORT_ON_DATA');
        // The writer is in CLOSE_WAIT: EPIPE. The resetting side sees ECONNRESET only if it had used shutdown().
        assert.deepEqual(f[0]!.errno, { orig: 'EPIPE', resp: 'ECONNRESET' });
      });

      it('data after the FIN was acknowledged: close() (TCP_TIMEWAIT_SOCKET) or shutdown(SHUT_RDWR) (TCP_ABORT_ON_DATA) → UNKNOWN', async () => {
        const cv = new Conv(ends).handshake();
        cv.s('FA').c('A').c('PA', { len: 64, dt: 0.5 }).s('R', { seq: cv.sNext });
        const recs = await analyzeConv(cv, enc);
        const f = resetBy(recs, 'resp');
        assert.equal(f.length, 1);
        assert.equal(f[0]!.reason, 'UNKNOWN');
        assert.deepEqual(f[0]!.candidates, ['TCP_TIMEWAIT_SOCKET', 'TCP_ABORT_ON_DATA']);
        assert.equal(f[0]!.errno.orig, 'EPIPE');
      });

      it('segments after an abort: the client port answers NO_SOCKET; a server port may still listen → UNKNOWN', async () => {
        const cv = new Conv(ends).handshake();
        cv.c('PA', { len: 10 }).s('A').c('RA', { dt: 0.01 }).s('PA', { len: 30, dt: 0.0001 }).c('R', { seq: cv.cNext });
        const recs = await analyzeConv(cv, enc);
        const f = resetBy(recs, 'orig');
        assert.deepEqual(f.map((x) => x.reason).sort(), ['NO_SOCKET', 'TCP_STATE']);
        const sv = new Conv({ ...ends, cport: ends.cport + 1 }).handshake();
        sv.c('PA', { len: 10 }).s('RA', { dt: 0.01 }).c('PA', { len: 30, dt: 0.0001 }).s('R', { seq: sv.sNext });
        const g = resetBy(await analyzeConv(sv, enc), 'resp');
        assert.equal(g.length, 2);
        const second = g.find((x) => x.reason !== 'TCP_ABORT_ON_CLOSE')!;
        assert.equal(second.reason, 'UNKNOWN');
        assert.deepEqual(second.candidates, ['TCP_FLAGS', 'NO_SOCKET']);
      });

      it('an RST with a foreign TTL while the "sender" keeps talking → a middlebox', async () => {
        const cv = new Conv(ends).handshake();
        cv.c('PA', { len: 20 }).s('PA', { len: 20 }).c('A');
        cv.s('RA', { ttl: 113, dt: 1 }).s('PA', { len: 10, dt: 0.01 });
        const recs = await analyzeConv(cv, enc);
        const { f } = only(recs, 'middlebox-reset');
        assert.equal(f.by, 'network');
        assert.ok(f.confidence >= 0.85);
      });
    });
  }

  it('port reuse: SYN answered with an ACK for the old CLOSE_WAIT connection → client RST TCP_INVALID_ACK_SEQUENCE', async () => {
    const old = new Conv(V4, 1_700_000_000, 1000, 5000).handshake();
    old.c('PA', { len: 10 }).s('A').c('FA').s('A');
    // The client's port wraps around; the server still holds the old connection in CLOSE_WAIT.
    const cv = new Conv(V4, old.t + 30, 900_000, 0);
    cv.c('S');
    cv.s('A', { seq: old.sNext, ack: old.cNext, dt: 0.0001 });
    cv.c('R', { seq: old.cNext, dt: 0.0001 });
    cv.c('S', { seq: cv.cIsn, dt: 1.0 });
    cv.s('SA', { seq: 777_777, ack: cv.cIsn + 1 });
    const segs = [...old.segs, ...cv.segs];
    const recs = await analyzeConv(Object.assign(new Conv(V4), { segs }));
    const { r, f } = only(recs, 'port-reuse');
    assert.equal(f.by, 'orig');
    assert.equal(f.reason, 'TCP_INVALID_ACK_SEQUENCE');
    assert.equal(f.state, 'TCP_SYN_SENT');
    assert.deepEqual(f.errno, { orig: null, resp: 'EPIPE' });
    assert.ok(r.history.startsWith('S'));
    assert.equal(recs.filter((x) => x.findings.some((y) => y.kind === 'half-close-stall' || y.kind === 'port-reuse')).length >= 1, true);
  });

  it('connect timeout: SYNs at 1, 2, 4 s intervals, nothing back → ETIMEDOUT', async () => {
    const cv = new Conv({ ...V6, sport: 25 });
    cv.c('S', { seq: cv.cIsn }).c('S', { seq: cv.cIsn, dt: 1 }).c('S', { seq: cv.cIsn, dt: 2 }).c('S', { seq: cv.cIsn, dt: 4 });
    const other = new Conv({ ...V6, cport: 1111, sport: 22 }, cv.t + 5).handshake();
    const recs = await analyzeConv(Object.assign(new Conv(V6), { segs: [...cv.segs, ...other.segs] }), 'pcapng-sll');
    // Zeek's attempt timer (5 s) ends the first record before the fourth SYN, which opens a second one: both are timeouts.
    const hits = recs.filter((r) => r.findings.some((f) => f.kind === 'connect-timeout'));
    assert.equal(hits.length, 2);
    assert.ok(hits.every((r) => r.conn_state === 'S0'));
    const r = hits[0]!;
    const f = r.findings.find((x) => x.kind === 'connect-timeout')!;
    assert.equal(r.orig_pkts, 3);
    assert.equal(f.by, 'network');
    assert.equal(f.reason, 'NONE');
    assert.ok(f.confidence >= 0.9);
    assert.deepEqual(f.errno, { orig: 'ETIMEDOUT', resp: null });
  });

  it('one SYN and the capture ends at once: no conclusion drawn', async () => {
    const cv = new Conv(V4);
    cv.c('S');
    const recs = await analyzeConv(cv);
    assert.deepEqual(recs[0]!.findings, []);
  });

  it('keepalive timeout: unanswered probes, then RST → TCP_KEEPALIVE_TIMEOUT, the prober gets ETIMEDOUT', async () => {
    const cv = new Conv(V4).handshake();
    cv.c('PA', { len: 10 }).s('A');
    for (let i = 0; i < 4; i++) cv.c('A', { seq: cv.cNext - 1, dt: 75 });
    cv.c('RA', { dt: 75 });
    const recs = await analyzeConv(cv);
    const { f } = only(recs, 'keepalive-timeout');
    assert.equal(f.by, 'orig');
    assert.equal(f.reason, 'TCP_KEEPALIVE_TIMEOUT');
    assert.equal(f.errno.orig, 'ETIMEDOUT');
  });

  it('half-close stall: FIN acknowledged, the other side silent → CLOSE_WAIT on that side', async () => {
    const cv = new Conv(V4).handshake();
    cv.c('PA', { len: 10 }).s('PA', { len: 10 }).c('FA').s('A');
    const later = new Conv({ ...V4, cport: 40999 }, cv.t + 120).handshake();
    const recs = await analyzeConv(Object.assign(new Conv(V4), { segs: [...cv.segs, ...later.segs] }));
    const { r, f } = only(recs, 'half-close-stall');
    assert.equal(r.conn_state, 'S2');
    assert.equal(f.by, 'resp');
    assert.equal(f.state, 'TCP_CLOSE_WAIT');
    assert.ok(f.confidence >= 0.9);
  });

  it('zero window: the receiver stops reading, probes, the window reopens', async () => {
    const cv = new Conv(V6).handshake();
    cv.c('PA', { len: 1000 }).s('A', { win: 0 });
    cv.c('A', { seq: cv.cNext - 1, dt: 0.2 }).s('A', { win: 0 }).c('A', { seq: cv.cNext - 1, dt: 0.4 }).s('A', { win: 0 });
    cv.s('A', { win: 30000, dt: 2 }).c('PA', { len: 500 }).s('A');
    const recs = await analyzeConv(cv, 'pcapng-sll2');
    const { r, f } = only(recs, 'zero-window');
    assert.equal(f.by, 'resp');
    assert.ok(r.history.includes('w'));
    assert.match(f.summary, /2\.\d s in all/);
    assert.match(f.summary, /2 zero-window probes/);
  });

  it('retransmission timeout: the same segment at growing intervals, never acknowledged → ETIMEDOUT', async () => {
    const cv = new Conv(V4).handshake();
    const seq = cv.cNext;
    cv.c('PA', { len: 100 });
    for (const dt of [0.2, 0.4, 0.8, 1.6, 3.2]) cv.c('PA', { len: 100, seq, dt });
    const later = new Conv({ ...V4, cport: 41000 }, cv.t + 30).handshake();
    const recs = await analyzeConv(Object.assign(new Conv(V4), { segs: [...cv.segs, ...later.segs] }));
    const { f } = only(recs, 'retransmission-timeout');
    assert.equal(f.errno.orig, 'ETIMEDOUT');
    assert.ok(f.confidence >= 0.85);
    only(recs, 'retransmissions');
  });

  it('the first full-size segment never gets through, smaller ones did → a path MTU black hole', async () => {
    const cv = new Conv(V4).handshake();
    cv.c('PA', { len: 100 }).s('A').s('PA', { len: 60 }).c('A');
    const seq = cv.cNext;
    cv.c('PA', { len: 1448 }).c('PA', { len: 1448 });
    for (const dt of [0.2, 0.4, 0.8, 1.6]) cv.c('PA', { len: 1448, seq, dt });
    const later = new Conv({ ...V4, cport: 41000 }, cv.t + 30).handshake();
    const recs = await analyzeConv(Object.assign(new Conv(V4), { segs: [...cv.segs, ...later.segs] }));
    const { f } = only(recs, 'mtu-black-hole');
    assert.equal(f.by, 'network');
    assert.equal(f.errno.orig, 'ETIMEDOUT');
    assert.equal(f.confidence, 0.8);
    assert.match(f.summary, /retransmitted 1448 bytes, the start of its first segment larger than 100 bytes, 4 times .* had acknowledged everything before; no ICMP came back/);
    assert.match(f.advice, /tracepath 10\.9\.8\.7/);
    assert.ok(recs.every((r) => r.findings.every((x) => x.kind !== 'retransmission-timeout')));
  });

  it('no black hole for a stalled segment too small for any path to drop, or sent without DF', async () => {
    for (const [len, df] of [[500, true], [1448, false]] as const) {
      const cv = new Conv(V4).handshake();
      cv.c('PA', { len: 100 }).s('A');
      const seq = cv.cNext;
      cv.c('PA', { len, df });
      for (const dt of [0.2, 0.4, 0.8, 1.6]) cv.c('PA', { len, seq, dt, df });
      const later = new Conv({ ...V4, cport: 41000 }, cv.t + 30).handshake();
      const recs = await analyzeConv(Object.assign(new Conv(V4), { segs: [...cv.segs, ...later.segs] }));
      only(recs, 'retransmission-timeout');
      assert.ok(recs.every((r) => r.findings.every((x) => x.kind !== 'mtu-black-hole')), `${len} bytes, DF ${df}`);
    }
  });

  it('a full-size segment that stalls after others of its size got through is a plain retransmission timeout', async () => {
    const cv = new Conv(V4).handshake();
    cv.c('PA', { len: 100 }).c('PA', { len: 1448 }).s('A');
    const seq = cv.cNext;
    cv.c('PA', { len: 1448 });
    for (const dt of [0.2, 0.4, 0.8, 1.6]) cv.c('PA', { len: 1448, seq, dt });
    const later = new Conv({ ...V4, cport: 41000 }, cv.t + 30).handshake();
    const recs = await analyzeConv(Object.assign(new Conv(V4), { segs: [...cv.segs, ...later.segs] }));
    only(recs, 'retransmission-timeout');
    assert.ok(recs.every((r) => r.findings.every((x) => x.kind !== 'mtu-black-hole')));
  });

  it('ICMP port unreachable for a SYN → unreachable, ECONNREFUSED (a firewall)', async () => {
    const cv = new Conv(V4);
    cv.c('S');
    const syn = cv.segs[0]!.bytes;
    cv.raw(ipPacket('10.9.8.7', '10.1.2.3', 1, [3, 3, 0, 0, 0, 0, 0, 0, ...syn.slice(0, 28)]));
    const recs = await analyzeConv(cv);
    const { f } = only(recs, 'unreachable');
    assert.equal(f.errno.orig, 'ECONNREFUSED');
    assert.ok(recs.every((r) => r.findings.every((x) => x.kind !== 'refused')));
  });

  it('an RST carrying text shows it (RFC 1122 reset cause)', async () => {
    const cv = new Conv(V4).handshake();
    cv.c('PA', { len: 10 }).s('A').s('RA', { payload: 'server overloaded\x07' });
    const recs = await analyzeConv(cv);
    const f = resetBy(recs, 'resp');
    assert.equal(f[0]!.rst_text, 'server overloaded\\x07');
  });

  it('an RST text keeps a literal backslash apart from an escaped byte: "\\x1b" typed out vs an ESC byte', async () => {
    const cv = new Conv(V4).handshake();
    // The text C:\x1b (six printable bytes), then a real ESC byte, then a lone backslash.
    cv.c('PA', { len: 10 }).s('A').s('RA', { payload: 'C:\\x1b \x1b \\' });
    const f = resetBy(await analyzeConv(cv), 'resp');
    assert.equal(f[0]!.rst_text, 'C:\\\\x1b \\x1b \\\\');
    // Read back unambiguously: \\ is a backslash, \xNN a byte.
    const back = f[0]!.rst_text!.replace(/\\(\\|x([0-9a-f]{2}))/g, (_m, e: string, hex?: string) => (e === '\\' ? '\\' : String.fromCharCode(parseInt(hex!, 16))));
    assert.equal(back, 'C:\\x1b \x1b \\');
  });

  it('challenge ACK: an RST off rcv_nxt is answered with an ACK and ignored', async () => {
    const cv = new Conv(V4).handshake();
    cv.c('PA', { len: 10 }).s('A');
    cv.c('R', { seq: cv.cNext + 5000, dt: 0.5 }).s('A', { dt: 0.0001 });
    const recs = await analyzeConv(cv);
    const { f } = only(recs, 'challenge-ack');
    assert.equal(f.by, 'resp');
  });

  it('the handshake-completing segment answered with RST by the listener → accept overflow, INVALID_SYN', async () => {
    const cv = new Conv(V4);
    cv.c('S').s('SA').c('PA', { len: 14, dt: 0.1 }).s('R', { seq: cv.sNext });
    const recs = await analyzeConv(cv);
    const { f } = only(recs, 'accept-overflow');
    assert.equal(f.by, 'resp');
    assert.equal(f.reason, 'INVALID_SYN');
    assert.equal(f.errno.orig, 'ECONNRESET');
  });

  it('RST after the own FIN was acknowledged, nothing unread: TCP_STATE or TCP_ABORT_ON_LINGER → UNKNOWN', async () => {
    const cv = new Conv(V6).handshake();
    cv.c('FA').s('A').c('RA', { dt: 0.04 });
    const f = resetBy(await analyzeConv(cv, 'pcapng-sll'), 'orig');
    assert.equal(f.length, 1);
    assert.equal(f[0]!.reason, 'UNKNOWN');
    assert.deepEqual(f[0]!.candidates, ['TCP_STATE', 'TCP_ABORT_ON_LINGER']);
  });

  it('an IPv4 reply RST with a partial checksum (captured on its host) comes from netfilter, not the stack', async () => {
    const cv = new Conv(V4);
    cv.c('S').s('RA', { seq: 0, ack: cv.cNext });
    const rst = cv.segs[1]!.bytes;
    rst[20 + 16] ^= 0x5a; // break the TCP checksum the way checksum offload leaves it
    const recs = await analyzeConv(cv);
    const { f } = only(recs, 'refused');
    assert.equal(f.by, 'network');
    assert.equal(f.reason, 'UNKNOWN');
    assert.equal(f.errno.orig, 'ECONNREFUSED');
  });

  it('the call lists findings share cannot be changed through one finding', async () => {
    const refusedAt = async (cport: number): Promise<Finding> => {
      const cv = new Conv({ ...V4, cport });
      cv.c('S').s('RA', { seq: 0, ack: cv.cNext });
      return only(await analyzeConv(cv), 'refused').f;
    };
    const a = await refusedAt(40200);
    const b = await refusedAt(40201);
    assert.equal(a.calls!.orig, b.calls!.orig, 'one list, shared');
    assert.throws(() => (a.calls!.orig as unknown as object[]).push({ call: 'send', errno: null }), TypeError);
    assert.throws(() => {
      (a.calls!.orig[0] as { errno: string | null }).errno = 'EPIPE';
    }, TypeError);
    assert.deepEqual(b.calls!.orig, [{ call: 'connect', errno: 'ECONNREFUSED' }]);
  });

  it('accept-queue overflow: SYN-ACK sent again after the client\'s ACK', async () => {
    const cv = new Conv(V4).handshake();
    cv.c('PA', { len: 10 }).s('SA', { seq: cv.sIsn, ack: cv.cIsn + 1, dt: 1 });
    const recs = await analyzeConv(cv);
    const { f } = only(recs, 'accept-overflow');
    assert.equal(f.by, 'resp');
  });

  it('SYN-ACK never acknowledged while the client keeps sending SYNs: SYN-ACKs lost on the way back', async () => {
    const cv = new Conv(V4);
    cv.c('S').s('SA').c('S', { seq: cv.cIsn, dt: 1 }).s('SA', { seq: cv.sIsn, ack: cv.cIsn + 1 }).c('S', { seq: cv.cIsn, dt: 2 });
    const recs = await analyzeConv(cv);
    const { f } = only(recs, 'handshake-incomplete');
    assert.equal(f.by, 'network');
    assert.equal(f.errno.orig, 'ETIMEDOUT');
  });

  it('capture loss is told apart from network loss', async () => {
    const cv = new Conv(V4).handshake();
    const seq = cv.cNext;
    cv.c('PA', { len: 100 });
    // 200 bytes the capture missed, acknowledged by the server.
    cv.c('PA', { len: 100, seq: seq + 300 }).s('A', { ack: seq + 400 });
    cv.cNext = seq + 400;
    cv.c('FA').s('FA').c('A');
    const recs = await analyzeConv(cv);
    const { f } = only(recs, 'capture-loss');
    assert.match(f.summary, /200 bytes/);
    assert.ok(recs.every((r) => r.findings.every((x) => x.kind !== 'retransmissions')));
  });

  it('a clean connection has no findings, and the text report says so', async () => {
    const cv = new Conv(V4).handshake();
    cv.c('PA', { len: 10 }).s('PA', { len: 20 }).c('FA').s('FA').c('A');
    const recs = await analyzeConv(cv);
    assert.deepEqual(recs[0]!.findings, []);
    assert.match(renderFindings(ReportDigest.of(recs, 0, 5)), /HEALTHY: 1 connection without findings \(SF 1\)/);
  });

  it('the text report puts failures first, grouped by kind, with evidence, errno per side and advice', async () => {
    const cv = new Conv(V4);
    cv.c('S').s('RA', { seq: 0, ack: cv.cNext });
    const ok = new Conv({ ...V4, cport: 40500 }, cv.t + 1).handshake();
    ok.c('FA').s('FA').c('A');
    const recs = await analyzeConv(Object.assign(new Conv(V4), { segs: [...cv.segs, ...ok.segs] }));
    const text = renderFindings(ReportDigest.of(recs, 0, 5));
    assert.match(text, /^FAILURES: 1 of 2 connections/);
    assert.match(text, /refused — 1 finding/);
    assert.match(text, /evidence: frames 1, 2/);
    assert.match(text, /client sees: connect\(\) → ECONNREFUSED "Connection refused"/);
    assert.match(text, /advice: /);
    assert.match(text, /HEALTHY: 1 connection without findings/);
  });
  it('the text report says where a kind\'s findings point: reasons, who acted, and the responders, most first', async () => {
    // Three refused connects: two to 10.9.8.7:8080, one to [2001:db8:ff::5]:443.
    const a = new Conv(V4);
    a.c('S').s('RA', { seq: 0, ack: a.cNext });
    const b = new Conv({ ...V4, cport: 40200 }, a.t + 1);
    b.c('S').s('RA', { seq: 0, ack: b.cNext });
    const recs = [...(await analyzeConv(Object.assign(new Conv(V4), { segs: [...a.segs, ...b.segs] })))];
    const c = new Conv(V6, a.t + 2);
    c.c('S').s('RA', { seq: 0, ack: c.cNext });
    recs.push(...(await analyzeConv(c)));
    const text = renderFindings(ReportDigest.of(recs, 0, 5));
    assert.match(text, /refused — 3 findings \(tcpsleuth explain refused\)\n  reasons: NO_SOCKET 3; by the server 3\n  at 2 responders, most at 10\.9\.8\.7:8080 \(2\), \[2001:db8:ff::5\]:443 \(1\)\n/);
    // One finding of a kind needs no tally: its example says it all.
    const one = renderFindings(ReportDigest.of(recs.slice(0, 1), 0, 5));
    assert.match(one, /refused — 1 finding \(tcpsleuth explain refused\)\n  #/);
  });

  it('window full, then a zero window: a slow reader (the window scaled by the shift its SYN-ACK announced)', async () => {
    const cv = new Conv(V6);
    cv.c('S', { options: wscale(7) }).s('SA', { options: wscale(2) }).c('A');
    // 750 << 2 = 3000 bytes of window: the third 1000-byte segment reaches its right edge (frame 7).
    cv.s('A', { win: 750 }).c('PA', { len: 1000 }).c('PA', { len: 1000 }).c('PA', { len: 1000 });
    cv.s('A', { win: 0 }).c('A', { seq: cv.cNext - 1, dt: 0.2 }).s('A', { win: 0 });
    cv.s('A', { win: 750, dt: 1 }).c('PA', { len: 500 }).s('A');
    const recs = await analyzeConv(cv, 'pcapng-sll');
    const { r, f } = only(recs, 'window-full');
    assert.equal(f.by, 'resp');
    assert.equal(f.reason, 'NONE');
    assert.ok(f.confidence >= 0.85);
    assert.deepEqual(f.frames, [7]);
    assert.match(f.summary, /full receive window once, at frame 7/);
    assert.match(f.summary, /windows of at most 2\.9 KB/);
    assert.match(f.summary, /a slow reader, not a small buffer or a slow network/);
    assert.equal(only(recs, 'zero-window').f.by, 'resp');
    assert.equal(r.stats?.orig.window_full_segs, 1);
    assert.equal(r.stats?.resp.zero_window_segs, 2);
  });

  it('window full but never shut, no window scaling: a 64 KB window caps the transfer at the path\'s round trip', async () => {
    const cv = new Conv(V4);
    // The client offers window scaling; the server's SYN-ACK does not: no scaling either way (RFC 7323).
    cv.c('S', { options: wscale(7) }).s('SA', { dt: 0.02 }).c('A', { dt: 0.02 });
    for (let round = 0; round < 4; round++) {
      cv.s('A', { win: 65535, dt: round === 0 ? 0.001 : 0.04 });
      for (let sent = 0; sent < 65535; sent += 1460) cv.c('A', { len: Math.min(1460, 65535 - sent), dt: 0.0001 });
    }
    cv.s('A', { win: 65535, dt: 0.04 }).c('FA').s('FA').c('A');
    const recs = await analyzeConv(cv);
    const { r, f } = only(recs, 'window-full');
    assert.equal(f.by, 'resp');
    assert.ok(f.confidence >= 0.7 && f.confidence < 0.85);
    assert.match(f.summary, /4 times between frames/);
    assert.match(f.summary, /the window never shut/);
    assert.match(f.summary, /round trip of 40 ms, one window per round trip caps the transfer at about 13 Mbit\/s/);
    assert.match(f.summary, /Window scaling was not negotiated \(the server's SYN-ACK carried no window-scale option/);
    assert.match(f.advice, /tcp_window_scaling/);
    assert.ok(recs.every((x) => x.findings.every((y) => y.kind !== 'zero-window' && y.kind !== 'retransmissions')));
    assert.equal(r.stats?.orig.window_full_segs, 4);
    assert.equal(r.stats?.resp.zero_window_segs, 0);
    assert.equal(r.conn_state, 'SF');
  });

  it('a window that was never full: no window-full finding, and retransmissions are the network\'s', async () => {
    const cv = new Conv(V4);
    cv.c('S', { options: wscale(7) }).s('SA', { options: wscale(7) }).c('A');
    const seq = cv.cNext;
    cv.c('PA', { len: 1400 }).c('PA', { len: 1400 }).s('A', { ack: seq + 1400, win: 500 });
    cv.c('PA', { len: 1400, seq: seq + 1400, dt: 0.3 }).s('A', { win: 500 }).c('FA').s('FA').c('A');
    const recs = await analyzeConv(cv);
    assert.ok(recs.every((r) => r.findings.every((f) => f.kind !== 'window-full')));
    const { r, f } = only(recs, 'retransmissions');
    assert.match(f.summary, /never full nor shut: a slow or lossy network set the pace/);
    assert.match(f.summary, /the client sent 2 new data segments and retransmitted 1 \(1\.4 KB\): 33\.3% of the 3 it sent; the server sent 0 new data segments and retransmitted none\./);
    assert.deepEqual(r.stats?.orig, { retrans_segs: 1, retrans_bytes: 1400, out_of_order_segs: 0, zero_window_segs: 0, window_full_segs: 0, missed_bytes: 0 });
  });

  it('per-direction statistics match the segments counted by hand', async () => {
    const cv = new Conv(V4).handshake();
    const c0 = cv.cIsn + 1;
    const s0 = cv.sIsn + 1;
    const data = (seq: number, len: number): Conv => cv.c('PA', { seq, len });
    const ack = (a: number, win = 64000): Conv => cv.s('A', { ack: a, win });
    data(c0, 1000); // 4
    ack(c0 + 1000); // 5
    data(c0 + 1000, 1000); // 6
    data(c0 + 1000, 1000); // 7: retransmitted (1000 bytes)
    ack(c0 + 2000); // 8
    data(c0 + 2500, 500); // 9: starts beyond the highest sequence sent: out of order
    data(c0 + 2000, 500); // 10: fills the hole from below: counted with the retransmissions (500 bytes)
    ack(c0 + 3000, 3000); // 11: a window of 3000
    data(c0 + 3000, 3000); // 12: fills it to the right edge: window full
    ack(c0 + 6000, 0); // 13: zero window
    cv.s('A', { ack: c0 + 6000, win: 0, dt: 0.3 }); // 14: zero window
    ack(c0 + 6000); // 15: open again
    // 700 bytes from the client the capture never saw, acknowledged by the server.
    ack(c0 + 6700); // 16
    data(c0 + 6700, 300); // 17: beyond the highest sequence seen: out of order too
    cv.s('PA', { seq: s0, ack: c0 + 7000, len: 400 }); // 18
    cv.s('PA', { seq: s0, ack: c0 + 7000, len: 400 }); // 19: retransmitted (400 bytes)
    cv.c('A', { seq: c0 + 7000, ack: s0 + 400 }); // 20
    cv.c('FA', { seq: c0 + 7000, ack: s0 + 400 }).s('FA', { seq: s0 + 400, ack: c0 + 7001 }).c('A', { seq: c0 + 7001, ack: s0 + 401 });
    const recs = await analyzeConv(cv);
    assert.equal(recs.length, 1);
    const r = recs[0]!;
    assert.equal(r.conn_state, 'SF');
    assert.deepEqual(r.stats, {
      orig: { retrans_segs: 2, retrans_bytes: 1500, out_of_order_segs: 2, zero_window_segs: 0, window_full_segs: 1, missed_bytes: 700 },
      resp: { retrans_segs: 1, retrans_bytes: 400, out_of_order_segs: 0, zero_window_segs: 2, window_full_segs: 0, missed_bytes: 0 },
    });
    assert.equal(r.missed_bytes, 700);
    assert.match(only(recs, 'capture-loss').f.summary, /700 bytes of the client's data acknowledged but never captured/);
    const view = renderPacketTrace([], r).split('\n');
    assert.equal(view[1], 'segments sent by orig: 2 retransmitted (1.5KiB), 2 out of order, 0 zero-window, 1 window-full; 700B acknowledged but not captured');
    assert.equal(view[2], 'segments sent by resp: 1 retransmitted (400B), 0 out of order, 2 zero-window, 0 window-full; 0B acknowledged but not captured');
  });

  it('a clean connection has no statistics (null)', async () => {
    const cv = new Conv(V6).handshake();
    cv.c('PA', { len: 10 }).s('PA', { len: 20 }).c('FA').s('FA').c('A');
    const recs = await analyzeConv(cv, 'pcap-raw');
    assert.equal(recs[0]!.stats, null);
  });

  it('a connect attempt Zeek\'s timer split into three records is told as one story', async () => {
    const cv = new Conv({ ...V4, sport: 443 }, 1_700_000_000, 0x9abcdef0);
    // Linux's schedule (1, 2, 4, 8 s): SYNs at 0, 1, 3, 7 and 15 s, all with the same ISN.
    for (const dt of [0, 1, 2, 4, 8]) cv.c('S', { seq: cv.cIsn, dt, options: wscale(7) });
    const later = new Conv({ ...V4, cport: 41999, sport: 22 }, cv.t + 15).handshake();
    const recs = await analyzeConv(Object.assign(new Conv(V4), { segs: [...cv.segs, ...later.segs] }));
    const pieces = recs.filter((r) => r.resp.port === 443);
    // Zeek's view is unchanged: three S0 records, SYNs [0 1 3] [7] [15].
    assert.deepEqual(pieces.map((r) => [r.conn_state, r.history, r.orig_pkts, r.end_reason]), [
      ['S0', 'S', 3, 'timeout'],
      ['S0', 'S', 1, 'timeout'],
      ['S0', 'S', 1, 'timeout'],
    ]);
    const [a, b, c] = pieces.map((r) => r.findings.find((f) => f.kind === 'connect-timeout')!);
    const [idA, idB, idC] = pieces.map((r) => r.id);
    assert.equal(a!.continues, undefined);
    assert.match(a!.summary, /3 SYNs over 3\.0 s \(doubling intervals\)/);
    assert.match(a!.summary, new RegExp(`SYNs the client sent later \\(same ISN, ${0x9abcdef0}\\) continue it in a new record on this 4-tuple`));
    assert.deepEqual(b!.continues, [idA]);
    assert.match(b!.summary, /4 SYNs with the same initial sequence number over 7\.0 s \(doubling intervals\)/);
    assert.deepEqual(c!.continues, [idA, idB]);
    assert.match(c!.summary, /since \d\d:\d\d:\d\d\.000 \(frame 1\): 5 SYNs with the same initial sequence number over 15 s \(doubling intervals\)/);
    assert.match(c!.summary, new RegExp(`split into 3 records: 3 SYNs in #${idA} \\(0–3\\.0 s\\), 1 in #${idB} \\(7\\.0 s\\) and 1 in this record, #${idC} \\(15 s\\)`));
    // One SYN alone would be a weak sign; the whole series is a strong one.
    assert.equal(c!.confidence, 0.9);
    assert.equal(b!.confidence, 0.9);
    // The evidence stays within each record; the earlier frames are named in the summary.
    assert.deepEqual(c!.frames, [5]);
    assert.deepEqual(c!.errno, { orig: 'ETIMEDOUT', resp: null });
  });

  it('the backoff across Zeek\'s cut counts: SYNs at 0 and 4 s, then at 12 s in the next record', async () => {
    const cv = new Conv(V4, 1_700_000_000, 77);
    for (const dt of [0, 4, 8]) cv.c('S', { seq: 77, dt });
    const later = new Conv({ ...V4, cport: 41999, sport: 22 }, cv.t + 15).handshake();
    const recs = await analyzeConv(Object.assign(new Conv(V4), { segs: [...cv.segs, ...later.segs] }));
    const pieces = recs.filter((r) => r.resp.port === V4.sport);
    assert.deepEqual(pieces.map((r) => r.orig_pkts), [2, 1]);
    const first = pieces[0]!.findings.find((f) => f.kind === 'connect-timeout')!;
    const second = pieces[1]!.findings.find((f) => f.kind === 'connect-timeout')!;
    assert.equal(first.confidence, 0.75);
    assert.equal(second.confidence, 0.9);
    assert.match(second.summary, /3 SYNs with the same initial sequence number over 12 s \(doubling intervals\)/);
  });

  it('the memory of split attempts: kept while few, the stale ones forgotten when many (TCP_RTO_MAX)', () => {
    const memory = new DiagnosisMemory();
    const attempt = (lastTime: number) => ({ tuple: `t${lastTime}`, pieces: [{ id: 1, syns: 2, firstTime: lastTime - 1, lastTime }], syns: 2, backoffs: 0, firstFrame: 1, lastGap: 1, intervals: [1] });
    // An answered continuation is diagnosed when it ends, maybe long after its SYN: with few
    // attempts remembered, age alone forgets nothing.
    memory.noteAttempt(-1, attempt(-1000));
    memory.noteAttempt(-2, attempt(0));
    assert.equal(memory.takeAttempt(-1, 't-1000')?.pieces[0]!.lastTime, -1000);
    // A scan: an unanswered connect() every second for three hours, none continued. The memory
    // stays bounded, and what it forgets is only what is older than ATTEMPT_HORIZON.
    for (let t = 0; t < 3 * 3600; t++) memory.noteAttempt(t, attempt(t));
    assert.ok(memory.attemptCount <= ATTEMPT_SOFT_LIMIT, `${memory.attemptCount} attempts`);
    const last = 3 * 3600 - 1;
    for (let t = last - ATTEMPT_HORIZON; t <= last; t += 10) assert.equal(memory.takeAttempt(t, `t${t}`)?.pieces[0]!.lastTime, t);
    assert.equal(memory.takeAttempt(0, 't0'), undefined);
    // A key that matches but another 4-tuple's attempt (a hash collision) is not taken.
    assert.equal(memory.takeAttempt(last - 1, 'another 4-tuple'), undefined);
  });

  it('an attempt split across Linux\'s whole schedule (gaps up to 32 s) stays one story', async () => {
    const cv = new Conv({ ...V4, sport: 443 }, 1_700_000_000, 4242);
    for (const dt of [0, 1, 2, 4, 8, 16, 32]) cv.c('S', { seq: 4242, dt });
    const later = new Conv({ ...V4, cport: 41999, sport: 22 }, cv.t + 30).handshake();
    const recs = await analyzeConv(Object.assign(new Conv(V4), { segs: [...cv.segs, ...later.segs] }));
    const pieces = recs.filter((r) => r.resp.port === 443);
    assert.deepEqual(pieces.map((r) => r.orig_pkts), [3, 1, 1, 1, 1]);
    const last = pieces[4]!.findings.find((f) => f.kind === 'connect-timeout')!;
    assert.deepEqual(last.continues, pieces.slice(0, 4).map((r) => r.id));
    assert.match(last.summary, /7 SYNs with the same initial sequence number over 63 s \(doubling intervals\)/);
  });

  it('SYNs at 0, 1 and 3 s, then the SYN-ACK: a slow connect, three SYNs, 3 s late', async () => {
    const cv = new Conv({ ...V4, sport: 8080 }, 1_700_000_000, 5150);
    for (const dt of [0, 1, 2]) cv.c('S', { seq: 5150, dt });
    cv.s('SA', { ack: 5151 }).c('A', { seq: 5151 });
    cv.c('PA', { seq: 5151, len: 10 }).s('A').s('FA').c('FA').s('A');
    const [r] = await analyzeConv(cv);
    assert.equal(r!.conn_state, 'SF');
    const f = r!.findings.find((x) => x.kind === 'slow-connect');
    assert.ok(f, JSON.stringify(r!.findings.map((x) => x.kind)));
    assert.equal(f.by, 'network');
    assert.deepEqual(f.frames, [1, 4]);
    assert.equal(f.confidence, 0.85);
    assert.deepEqual(f.errno, { orig: null, resp: null });
    assert.deepEqual(f.calls!.orig, [{ call: 'connect', errno: null, note: 'returns after 3.0 s' }]);
    assert.match(f.summary, /sent 3 SYNs, at doubling intervals, before the server \(10\.9\.8\.7:8080\) answered: the SYN-ACK came 3\.0 s after the first SYN/);
    assert.match(f.summary, /The first 2 SYNs or their SYN-ACKs were lost/);
    assert.match(f.advice, /TcpExtListenOverflows/);
    assert.equal(f.continues, undefined);
  });

  it('a connect() Zeek\'s timer split, answered in its second record, is one slow connect', async () => {
    const cv = new Conv({ ...V4, sport: 8443 }, 1_700_000_000, 4040);
    // SYNs at 0, 1 and 3 s: Zeek's 5 s attempt timer ends the record; the SYN at 7 s is answered.
    for (const dt of [0, 1, 2, 4]) cv.c('S', { seq: 4040, dt });
    cv.s('SA', { ack: 4041 }).c('A', { seq: 4041 }).c('FA', { seq: 4041 }).s('FA').c('A');
    const recs = await analyzeConv(cv);
    assert.deepEqual(recs.map((r) => [r.conn_state, r.orig_pkts]), [['S0', 3], ['SF', 4]]);
    const timeout = recs[0]!.findings.find((x) => x.kind === 'connect-timeout')!;
    assert.match(timeout.summary, /continue it in a new record on this 4-tuple/);
    // The second record looks healthy on its own (one SYN, answered): the memory of the cut attempt makes it a slow connect.
    const f = recs[1]!.findings.find((x) => x.kind === 'slow-connect');
    assert.ok(f, JSON.stringify(recs[1]!.findings));
    assert.deepEqual(f.continues, [recs[0]!.id]);
    assert.match(f.summary, /sent 4 SYNs, at doubling intervals, before .* the SYN-ACK came 7\.0 s after the first SYN/);
    assert.match(f.summary, new RegExp(`split this connect\\(\\) into 2 records: 3 SYNs in #${recs[0]!.id} \\(0–3\\.0 s\\) and 1 in this record, #${recs[1]!.id} \\(7\\.0 s\\)`));
  });

  it('no slow connect when the client answers the late SYN-ACK with RST: its connect() had given up', async () => {
    const cv = new Conv({ ...V4, sport: 8082 }, 1_700_000_000, 900);
    for (const dt of [0, 1, 2]) cv.c('S', { seq: 900, dt });
    cv.s('SA', { ack: 901 }).c('R', { seq: 901 });
    const kinds = (await analyzeConv(cv)).flatMap((r) => r.findings.map((x) => x.kind));
    assert.ok(!kinds.includes('slow-connect'), kinds.join());
  });

  it('no slow connect for a first SYN answered, nor for SYNs resent after the SYN-ACK (the SYN-ACK was lost)', async () => {
    const quick = new Conv(V4).handshake();
    quick.c('FA').s('FA').c('A');
    assert.deepEqual((await analyzeConv(quick))[0]!.findings.map((x) => x.kind), []);
    const lostBack = new Conv({ ...V4, sport: 8081 }, 1_700_000_000, 700);
    lostBack.c('S', { seq: 700 }).s('SA', { ack: 701 }).c('S', { seq: 700, dt: 1 }).s('SA', { ack: 701 });
    const kinds = (await analyzeConv(lostBack))[0]!.findings.map((x) => x.kind);
    assert.ok(kinds.includes('handshake-incomplete'), kinds.join());
    assert.ok(!kinds.includes('slow-connect'), kinds.join());
  });

  it('a new connect() on the same 4-tuple (another ISN) is not taken for the earlier attempt', async () => {
    const cv = new Conv({ ...V6, sport: 8443 }, 1_700_000_000, 1000);
    for (const dt of [0, 1, 2]) cv.c('S', { seq: 1000, dt });
    cv.c('S', { seq: 99_000, dt: 4 });
    const later = new Conv({ ...V6, cport: 1234, sport: 22 }, cv.t + 20).handshake();
    const recs = await analyzeConv(Object.assign(new Conv(V6), { segs: [...cv.segs, ...later.segs] }), 'pcapng-sll2');
    const pieces = recs.filter((r) => r.resp.port === 8443);
    assert.equal(pieces.length, 2);
    const second = pieces[1]!.findings.find((f) => f.kind === 'connect-timeout')!;
    assert.equal(second.continues, undefined);
    assert.match(second.summary, /: one SYN, /);
    assert.ok(second.confidence <= 0.6);
  });
  describe('audit fixes: momentary zero windows, snaplen, full accept queues, linear SYN timeouts', () => {
    /** A transfer that fills the server's window (scaled by 2: 750 << 2 = 3000 bytes), which then shuts for `shut` seconds, in `episodes` episodes. */
    function shutWindow(shut: number, o: { episodes?: number; probes?: boolean; sport?: number } = {}): Conv {
      const cv = new Conv({ ...V4, sport: o.sport ?? 8080 });
      cv.c('S', { options: wscale(7) }).s('SA', { options: wscale(2) }).c('A');
      cv.s('A', { win: 750 }).c('PA', { len: 1000 }).c('PA', { len: 1000 }).c('PA', { len: 1000 });
      for (let i = 0; i < (o.episodes ?? 1); i++) {
        // 0.1 ms after the last segment the window is 0; it reopens `shut` later (no pair of times straddles a millisecond's half).
        cv.s('A', { win: 0, dt: 0.0001 });
        if (o.probes === true) cv.c('A', { seq: cv.cNext - 1, dt: shut / 2 }).s('A', { win: 0, dt: 0.00001 });
        cv.s('A', { win: 750, dt: o.probes === true ? shut / 2 - 0.00001 : shut });
        cv.c('PA', { len: 1000, dt: 0.00001 }).c('PA', { len: 1000, dt: 0.00001 }).c('PA', { len: 1000, dt: 0.00001 });
      }
      cv.s('A').c('FA').s('FA').c('A');
      return cv;
    }

    it('a zero window reopened within microseconds, no probe, is flow control: no failure, and never "0 µs"', async () => {
      const recs = await analyzeConv(shutWindow(0.000023));
      const r = recs[0]!;
      assert.equal(r.stats?.resp.zero_window_segs, 1, 'still counted');
      assert.ok(r.history.includes('w'));
      assert.ok(r.findings.every((f) => f.kind !== 'zero-window'), JSON.stringify(r.findings.map((f) => f.kind)));
      const { f } = only(recs, 'window-full');
      assert.equal(f.by, 'resp');
      assert.equal(f.confidence, 0.5);
      assert.match(f.summary, /shut it for a moment \(1 zero-window advertisement, under 1 ms in all, no zero-window probe\)/);
      assert.match(f.summary, /ordinary flow control/);
      assert.doesNotMatch(f.summary, /slow reader|0 µs/);
      const text = renderFindings(ReportDigest.of(recs, 0, 5));
      assert.doesNotMatch(text, /FAILURES/);
      assert.match(text, /OTHER OBSERVATIONS\n  window-full: 1 connection/);
    });

    it('the line is TCP_RTO_MIN (200 ms): 150 ms shut is no stall, 250 ms or a probe is a slow reader', async () => {
      const short = await analyzeConv(shutWindow(0.15));
      assert.ok(short[0]!.findings.every((f) => f.kind !== 'zero-window'));
      assert.match(only(short, 'window-full').f.summary, /for a moment \(1 zero-window advertisement, 150 ms in all/);
      const long = await analyzeConv(shutWindow(0.25));
      const { f } = only(long, 'zero-window');
      assert.equal(f.confidence, 0.9);
      assert.match(f.summary, /1×, 250 ms in all, longest 250 ms\): its application stopped reading/);
      assert.match(only(long, 'window-full').f.summary, /a slow reader/);
      const probed = await analyzeConv(shutWindow(0.1, { probes: true }));
      const p = only(probed, 'zero-window').f;
      assert.equal(p.confidence, 0.9);
      assert.match(p.summary, /100 ms in all.*\(1 zero-window probe\)/);
    });

    it('many short zero windows that add up: the reader set the pace (a weaker failure)', async () => {
      const recs = await analyzeConv(shutWindow(0.1, { episodes: 4 }));
      const { f } = only(recs, 'zero-window');
      assert.equal(f.confidence, 0.7);
      assert.match(f.summary, /4×, 400 ms in all, longest 100 ms\): each time for less than 200 ms/);
      assert.match(f.summary, /the reader set the pace/);
    });

    /** The capture as `tcpdump -s snap` writes it: every frame cut to `snap` bytes, its original length kept. */
    function snaplenCapture(segs: Seg[], snap: number): Buffer {
      return pcapFile(
        segs.map((s) => {
          const d = ethernet(s.bytes);
          return { ts: s.ts, data: d.slice(0, snap), origLen: d.length };
        }),
        { snaplen: snap },
      );
    }

    function transfer(): Conv {
      const cv = new Conv(V4).handshake();
      cv.c('PA', { len: 1000 }).c('PA', { len: 1000 }).c('PA', { len: 1000 }).s('A').s('PA', { len: 500 }).c('A').c('FA').s('FA').c('A');
      return cv;
    }

    it('a header-only capture (tcpdump -s 96): missed_bytes as Zeek counts them, but no capture-loss claim', async () => {
      const res = await analyzeBuffer(snaplenCapture(transfer().segs, 96));
      assert.equal(res.error, null);
      assert.equal(res.summary?.snaplen_truncated_frames, 4);
      const r = res.connections[0]!;
      assert.equal(r.missed_bytes, 3500, 'Zeek counts payload not captured whole as a gap once acknowledged');
      assert.deepEqual(r.findings.map((f) => f.kind), []);
    });

    it('with a snaplen, a segment the capture dropped is still capture loss — for that side only', async () => {
      const segs = transfer().segs.filter((_s, i) => i !== 4); // the client's second data segment never captured
      const res = await analyzeBuffer(snaplenCapture(segs, 128));
      const { f } = only(res.connections, 'capture-loss');
      assert.match(f.summary, /Capture loss: 2\.9 KB of the client's data acknowledged but never captured/);
      assert.doesNotMatch(f.summary, /server's data/);
    });

    it('a hole right before a FIN that carries data is capture loss, not a snaplen', async () => {
      const cv = new Conv(V4).handshake();
      const seq = cv.cNext;
      cv.c('PA', { len: 1000 });
      cv.c('FPA', { len: 500, seq: seq + 2000 });
      cv.cNext = seq + 2501;
      cv.s('FA').c('A');
      const { f } = only(await analyzeConv(cv), 'capture-loss');
      assert.match(f.summary, /1000 bytes of the client's data/);
    });

    /** A listener that answered a client and was done with it before `t`: the memory knows it by then. */
    function answered(t: number): Conv {
      const ok = new Conv({ ...V4, cport: 40001 }, t).handshake();
      ok.c('PA', { len: 10 }).s('A').c('FA').s('FA').c('A');
      return ok;
    }

    it('SYNs unanswered by an endpoint that answered others: the full accept queue first, a firewall rate limit second', async () => {
      const ok = answered(1_700_000_000);
      // 20 s later (the answered connection is diagnosed and gone), another client's SYNs get nothing back, on 1, 2, 4 s.
      const cv = new Conv({ ...V4, cport: 40002 }, ok.t + 20, 3333);
      for (const dt of [0, 1, 2, 4]) cv.c('S', { seq: 3333, dt });
      const elsewhere = new Conv({ ...V4, cport: 40003, sport: 8081 }, cv.t + 1, 4444);
      for (const dt of [0, 1, 2]) elsewhere.c('S', { seq: 4444, dt });
      const end = new Conv({ ...V4, cport: 41999, sport: 22 }, elsewhere.t + 30).handshake();
      const recs = await analyzeConv(Object.assign(new Conv(V4), { segs: [...ok.segs, ...cv.segs, ...elsewhere.segs, ...end.segs] }));
      const toListener = recs.filter((r) => r.resp.port === 8080 && r.orig.port === 40002);
      assert.equal(toListener.length, 2);
      for (const r of toListener) {
        const f = r.findings.find((x) => x.kind === 'connect-timeout')!;
        assert.match(f.summary, /10\.9\.8\.7:8080 answered other SYNs in this capture: it listens and is reachable, so its accept queue was most likely full/);
        assert.match(f.summary, /TcpExtListenOverflows, TcpExtListenDrops\)\. Otherwise a firewall rate limit dropped these SYNs/);
        assert.doesNotMatch(f.summary, /host down/);
        assert.match(f.advice, /nstat -az TcpExtListenOverflows TcpExtListenDrops/);
        assert.match(f.advice, /rate limit/);
        assert.equal(f.errno.orig, 'ETIMEDOUT');
      }
      // Port 8081 never answered anyone: nothing says it listens.
      const other = recs.find((r) => r.resp.port === 8081)!.findings.find((x) => x.kind === 'connect-timeout')!;
      assert.match(other.summary, /Dropped on the way \(firewall DROP, host down, no route\)/);
      assert.doesNotMatch(other.summary, /accept queue/);
    });

    it('a listener is known from its SYN-ACK on, while the connection it answered is still open (a full accept queue)', async () => {
      // Client A's connection is answered and stays open to the end (queued, never accept()ed);
      // client B's SYNs a moment later get nothing: its record ends long before A's.
      const held = new Conv({ ...V4, cport: 40010 }).handshake().c('PA', { len: 10 }).s('A');
      const dropped = new Conv({ ...V4, cport: 40011 }, held.t + 0.5, 5555);
      for (const dt of [0, 1, 2, 4]) dropped.c('S', { seq: 5555, dt });
      const later = new Conv({ ...V4, cport: 40010 }, dropped.t + 30, 0);
      later.c('A', { seq: held.cNext, ack: held.sNext });
      const recs = await analyzeConv(Object.assign(new Conv(V4), { segs: [...held.segs, ...dropped.segs, ...later.segs] }));
      const f = recs.find((r) => r.orig.port === 40011)!.findings.find((x) => x.kind === 'connect-timeout')!;
      assert.match(f.summary, /answered other SYNs in this capture: it listens and is reachable, so its accept queue was most likely full/);
      assert.ok(recs.findIndex((r) => r.orig.port === 40011) < recs.findIndex((r) => r.orig.port === 40010), 'the failed attempt was diagnosed first');
    });

    // Linux ≥ 6.5 with net.ipv4.tcp_syn_linear_timeouts = 4: retries 1 s apart five times, then doubling; 11 SYNs at most.
    const LINEAR = [0, 1.02, 1.02, 1.02, 1.02, 1.02, 2.02, 4.02];

    it('linear-then-exponential SYN retries (tcp_syn_linear_timeouts): one connect() across three records, ETIMEDOUT at ~131 s', async () => {
      const cv = new Conv({ ...V4, sport: 443 }, 1_700_000_000, 5555);
      for (const dt of LINEAR) cv.c('S', { seq: 5555, dt });
      const later = new Conv({ ...V4, cport: 41999, sport: 22 }, cv.t + 30).handshake();
      const recs = await analyzeConv(Object.assign(new Conv(V4), { segs: [...cv.segs, ...later.segs] }));
      const pieces = recs.filter((r) => r.resp.port === 443);
      // Zeek's 5 s attempt timer: SYNs [0 1 2 3 4] [5 7] [11].
      assert.deepEqual(pieces.map((r) => r.orig_pkts), [5, 2, 1]);
      const [a, b, c] = pieces.map((r) => r.findings.find((f) => f.kind === 'connect-timeout')!);
      // Evenly spaced SYNs alone are described, not taken for a kernel's backoff.
      assert.match(a!.summary, /5 SYNs over 4\.1 s \(evenly 1\.0 s apart, like the first retries of Linux ≥ 6\.5/);
      assert.equal(a!.confidence, 0.75);
      assert.match(b!.summary, /7 SYNs with the same initial sequence number over 7\.1 s \(5 intervals of 1\.0 s, then doubling: Linux ≥ 6\.5 with net\.ipv4\.tcp_syn_linear_timeouts = 4\)/);
      // Seven SYNs are all the classic schedule sends, not this one: the record is remembered and continued.
      assert.match(b!.summary, /continue it in a new record/);
      assert.deepEqual(c!.continues, [pieces[0]!.id, pieces[1]!.id]);
      assert.match(c!.summary, /8 SYNs with the same initial sequence number over 11 s \(5 intervals of 1\.0 s, then doubling/);
      assert.equal(c!.confidence, 0.9);
      assert.match(c!.summary, /ETIMEDOUT "Connection timed out" after ~131 s/);
      assert.match(c!.calls!.orig[0]!.note!, /~131 s/);
    });

    it('the classic schedule keeps its words and its ~127 s; its seventh SYN is its last', async () => {
      const cv = new Conv({ ...V4, sport: 443 }, 1_700_000_000, 4242);
      for (const dt of [0, 1, 2, 4, 8, 16, 32]) cv.c('S', { seq: 4242, dt });
      const later = new Conv({ ...V4, cport: 41999, sport: 22 }, cv.t + 70).handshake();
      const recs = await analyzeConv(Object.assign(new Conv(V4), { segs: [...cv.segs, ...later.segs] }));
      const last = recs.filter((r) => r.resp.port === 443).at(-1)!.findings.find((f) => f.kind === 'connect-timeout')!;
      assert.match(last.summary, /7 SYNs with the same initial sequence number over 63 s \(doubling intervals\)/);
      assert.match(last.summary, /after ~127 s\./);
      assert.doesNotMatch(last.summary, /continue it in a new record/);
    });

    it('a client that reconnects every second with new connections is not one connect() with SYN retries', async () => {
      const segs: Seg[] = [];
      for (let i = 0; i < 6; i++) segs.push(...new Conv({ ...V4, cport: 42000 + i }, 1_700_000_000 + i, 100_000 * (i + 1)).c('S').segs);
      const later = new Conv({ ...V4, cport: 41999, sport: 22 }, 1_700_000_030).handshake();
      const recs = await analyzeConv(Object.assign(new Conv(V4), { segs: [...segs, ...later.segs] }));
      const tries = recs.filter((r) => r.resp.port === V4.sport);
      assert.equal(tries.length, 6);
      for (const r of tries) {
        const f = r.findings.find((x) => x.kind === 'connect-timeout')!;
        assert.ok(f.confidence <= 0.6, `${f.confidence}`);
        assert.equal(f.continues, undefined);
        assert.match(f.summary, /: one SYN, /);
      }
    });

    it('a slow connect on the linear schedule says so, and the latencies of both schedules', async () => {
      const cv = new Conv({ ...V4, sport: 8443 }, 1_700_000_000, 6060);
      for (const dt of LINEAR.slice(0, 7)) cv.c('S', { seq: 6060, dt });
      cv.s('SA', { ack: 6061 }).c('A', { seq: 6061 }).c('FA', { seq: 6061 }).s('FA').c('A');
      const recs = await analyzeConv(cv);
      const f = recs.at(-1)!.findings.find((x) => x.kind === 'slow-connect')!;
      assert.match(f.summary, /sent 7 SYNs, 5 intervals of 1\.0 s, then doubling: Linux ≥ 6\.5 with net\.ipv4\.tcp_syn_linear_timeouts = 4, before the server/);
      assert.match(f.summary, /connects 1, 3, 7, 15 s late\), or, since Linux 6\.5 .*\(1, 2, 3, 4, 5, 7, 11 s late\)/);
      assert.equal(f.confidence, 0.85);
      const even = new Conv({ ...V4, sport: 8444 }, 1_700_000_000, 7070);
      for (const dt of [0, 1.02, 1.02]) even.c('S', { seq: 7070, dt });
      even.s('SA', { ack: 7071 }).c('A', { seq: 7071 }).c('FA', { seq: 7071 }).s('FA').c('A');
      const g = (await analyzeConv(even))[0]!.findings.find((x) => x.kind === 'slow-connect')!;
      assert.match(g.summary, /sent 3 SYNs, evenly 1\.0 s apart/);
      assert.equal(g.confidence, 0.7, 'evenly spaced SYNs are not the doubling signature');
    });

    it('tcpsleuth explain tells both SYN schedules, the accept queue and the 200 ms line', () => {
      assert.match(explainTopic('connect-timeout')!, /tcp_syn_linear_timeouts/);
      assert.match(explainTopic('connect-timeout')!, /accept queue/);
      assert.match(explainTopic('slow-connect')!, /1, 2, 3, 4, 5, 7/);
      assert.match(explainTopic('ETIMEDOUT')!, /131 s/);
      assert.match(explainTopic('zero-window')!, /200 ms/);
      assert.match(explainTopic('capture-loss')!, /snaplen/);
    });
  });
});

describe('a zero window still shut when the capture ends', () => {
  it('is a stall however short the capture saw it (it never reopened)', async () => {
    const cv = new Conv({ ...V4, sport: 9201 }).handshake().c('PA', { len: 1000 }).s('A', { win: 0 }).c('A', { dt: 0.05 });
    const f = (await analyzeConv(cv))[0]!.findings.find((x) => x.kind === 'zero-window');
    assert.ok(f !== undefined, 'no zero-window finding');
    assert.equal(f.by, 'resp');
  });
});

describe('unanswered requests: acknowledged by the server kernel, never answered', () => {
  const request = (sport: number): Conv => new Conv({ ...V4, sport }).handshake().c('PA', { len: 120 }).s('A');
  const kind = (recs: ConnectionRecord[]): Finding | undefined => recs[0]!.findings.find((f) => f.kind === 'unanswered-request');

  it('still waiting when the capture ends: the server sent nothing in the time watched', async () => {
    const cv = request(9101).c('A', { dt: 5 });
    const recs = await analyzeConv(cv);
    assert.equal(recs[0]!.conn_state, 'S1');
    const f = kind(recs)!;
    assert.equal(f.by, 'resp');
    assert.equal(f.confidence, 0.5);
    assert.deepEqual(f.frames, [4]);
    assert.match(f.summary, /^The client \(10\.1\.2\.3:40123\) sent 120 bytes \(frame 4 at [\d:.]+\); the server \(10\.9\.8\.7:9101\) acknowledged all of it — its kernel received the request — but sent nothing back in the 5\.0 s the capture watched after it\./);
    assert.match(f.summary, /never accept\(\)ed the connection/);
    assert.ok(!FAILURE_KINDS.has('unanswered-request'), 'an observation: a protocol where only the client talks looks the same');
  });

  it('the client gave up: its FIN (or RST) after waiting', async () => {
    const fin = await analyzeConv(request(9102).c('FA', { dt: 3 }).s('A').s('FA').c('A'));
    const f = kind(fin)!;
    assert.equal(f.confidence, 0.6);
    assert.match(f.summary, /but sent nothing back; 3\.0 s later the client gave up \(FIN, frame 6\)/);
    const rst = await analyzeConv(request(9103).c('RA', { dt: 2 }));
    assert.match(kind(rst)!.summary, /2\.0 s later the client gave up \(RST, frame 6\)/);
  });

  it('a half-close right after the request is waiting, not giving up', async () => {
    // The client's FIN 10 ms after its request; a datagram elsewhere 4 s later ends the capture.
    const cv = request(9110).c('FA', { dt: 0.01 }).s('A').raw(ipPacket('10.0.0.9', '10.0.0.8', 17, [0, 53, 0, 53, 0, 8, 0, 0]), 4);
    const f = kind(await analyzeConv(cv))!;
    assert.match(f.summary, /\(then half-closed with its FIN, frame 6, and waited for the answer\)/);
    assert.match(f.summary, /but sent nothing back in the 4\.0 s the capture watched after it/);
  });

  it('the server closed without a byte of answer ("Empty reply from server")', async () => {
    const recs = await analyzeConv(request(9104).s('FA', { dt: 0.3 }).c('FA').s('A'));
    const f = kind(recs)!;
    assert.match(f.summary, /and closed the connection 30\d ms later without a byte of answer \(FIN, frame 6\)\. Its application read the request and closed/);
    assert.doesNotMatch(f.summary, /half-closed/);
    assert.deepEqual(f.calls!.orig, [{ call: 'recv', errno: null, note: '0: end of stream, no answer' }]);
  });

  it('no finding: an answer, a short wait, a half-close answered or closed, a request the server never acknowledged', async () => {
    const none = async (cv: Conv, why: string): Promise<void> => assert.equal(kind(await analyzeConv(cv)), undefined, why);
    await none(request(9105).s('PA', { len: 900, dt: 2 }).c('A', { dt: 3 }), 'answered after 2 s');
    await none(request(9106).c('A', { dt: 0.5 }), 'half a second of silence');
    await none(request(9107).c('FA').s('PA', { len: 50, dt: 1.5 }).s('FA').c('A'), 'half-close, then the answer');
    // Data, the client's FIN, the server's FIN: a finished one-way transfer (an upload, syslog over
    // TCP) looks exactly like a request the server closed on without answering.
    await none(request(9112).c('FA', { dt: 0.01 }).s('A').s('FA', { dt: 0.2 }).c('A'), 'half-close, then the server closed');
    await none(new Conv({ ...V4, sport: 9108 }).handshake().c('PA', { len: 120 }).c('A', { dt: 5 }), 'never acknowledged: the network, not the application');
    // The server's answer is missing from the capture, but the client acknowledged it, and the server's FIN comes after it.
    const lost = request(9111);
    lost.sNext = (lost.sNext + 24) >>> 0;
    await none(lost.c('A', { dt: 0.5 }).s('FA', { dt: 1.5 }).c('FA').s('A'), 'an answer the capture missed');
  });
});

describe('durations in the sentences', () => {
  it('take the unit of the rounded figure: never "1000 µs" or "1000 ms"', () => {
    assert.equal(seconds(0.0005), '500 µs');
    assert.equal(seconds(0.0009996), '1 ms');
    assert.equal(seconds(0.25), '250 ms');
    assert.equal(seconds(0.9996), '1.0 s');
    assert.equal(seconds(42), '42 s');
    assert.equal(seconds(600), '10.0 min');
  });
});
