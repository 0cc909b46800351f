/**
 * Inputs that fuzzing found to crash or hang the analysis, kept as regression tests. Each runs
 * in a worker (test/helpers/fuzz-worker.ts) so that a hang — a synchronous endless loop — fails
 * the test instead of stalling the run.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Worker } from 'node:worker_threads';
import { analyzeBuffer } from './helpers/analyze-buffer.js';
import { ethernet, handshakeDataClose, pcapFile, pcapngFile, tcpIpPacket } from './helpers/capture-builder.js';
import type { FuzzReply, FuzzRequest } from './helpers/fuzz-worker.js';

const HANG_MS = 10_000;

async function runInWorker(bytes: Buffer, chunk = bytes.length): Promise<FuzzReply | 'hang'> {
  const worker = new Worker(new URL('./helpers/fuzz-worker.js', import.meta.url));
  try {
    return await new Promise<FuzzReply | 'hang'>((resolve) => {
      const timer = setTimeout(() => resolve('hang'), HANG_MS);
      worker.once('message', (m: FuzzReply) => {
        clearTimeout(timer);
        resolve(m);
      });
      worker.postMessage({ bytes, chunk, verifyChecksums: false } satisfies FuzzRequest);
    });
  } finally {
    await worker.terminate();
  }
}

describe('fuzz regressions', () => {
  // A pcapng interface whose if_tsresol counts whole seconds (10^0 or 2^0) puts ts_high in units
  // of 2^32 s: timestamps reach 2^64 s, far beyond 2^53, where consecutive whole seconds are the
  // same double. The timer wheel walked such a gap second by second with `s++`, which then never
  // moves: the analysis hung on the second packet.
  for (const tsresol of [0, 0x80]) {
    it(`timestamps beyond 2^53 s (if_tsresol 0x${tsresol.toString(16)}) end in a result, not a hang`, { timeout: HANG_MS + 10_000 }, async () => {
      const t0 = 2 ** 60;
      const frames = handshakeDataClose().map((s, i) => ({ ts: t0 + i * 256, data: ethernet(tcpIpPacket(s)) }));
      const reply = await runInWorker(pcapngFile([{ interfaces: [{ linkType: 1, tsresol }], frames }]));
      assert.notEqual(reply, 'hang', 'the analysis did not finish');
      const r = reply as FuzzReply;
      assert.equal(r.crash, null);
      assert.equal(r.errorCode, null);
      assert.ok(r.connections >= 1, `${r.connections} connections`);
    });
  }

  // A SYN every second on one 4-tuple with one ISN for 25 minutes: Zeek's attempt timer cuts it
  // into records of 5 SYNs, and an evenly spaced run implies a tcp_syn_linear_timeouts that always
  // allows one more SYN. So every record continued one ever-growing "connect()" — record 300 told
  // of 1500 SYNs and listed all 299 records before it: output quadratic in the capture's length.
  it('an endless run of SYNs with one ISN is not told as one connect() of thousands of SYNs', async () => {
    const syn = ethernet(tcpIpPacket({ src: '10.0.0.1', dst: '10.0.0.2', sport: 40000, dport: 80, seq: 1000, flags: 'S' }));
    const frames = Array.from({ length: 1500 }, (_, i) => ({ ts: 1700000000 + i, data: syn }));
    const r = await analyzeBuffer(pcapFile(frames));
    assert.equal(r.error, null);
    assert.equal(r.connections.length, 300);
    let longest = 0;
    for (const c of r.connections) {
      for (const f of c.findings) {
        if (f.kind !== 'connect-timeout') continue;
        longest = Math.max(longest, f.continues?.length ?? 0);
        const claimed = /(\d+) SYNs with the same initial sequence number/.exec(f.summary);
        // No connect() sends more SYNs than 1 + tcp_syn_retries + tcp_syn_linear_timeouts, each at most 127.
        if (claimed !== null) assert.ok(Number(claimed[1]) <= 255, `#${c.id}: ${claimed[0]}`);
      }
    }
    assert.ok(longest > 0, 'the SYNs were never told as one connect() split into records');
    assert.ok(longest < 255 / 5, `a finding continues ${longest} earlier records`);
  });

  // A block (pcapng) or record (pcap whose snaplen allows it) that says it is tens of megabytes
  // long, read in small pieces as from a pipe: each piece was appended by copying everything
  // held so far, quadratic in the block's length — 48 MiB in 16 KiB pieces took minutes of CPU
  // before the file's end could be reported as a cut-off block.
  it('a huge block read in small pieces is collected in linear time', { timeout: HANG_MS + 10_000 }, async () => {
    const head = pcapngFile([{ interfaces: [{ linkType: 1 }], frames: [] }]);
    const total = 0x03fffffc; // a multiple of 4 below the 64 MiB limit on a block
    const block = Buffer.alloc(48 << 20);
    block.writeUInt32LE(6, 0);
    block.writeUInt32LE(total, 4);
    const reply = await runInWorker(Buffer.concat([head, block]), 16 << 10);
    assert.notEqual(reply, 'hang', 'the analysis did not finish');
    assert.equal((reply as FuzzReply).crash, null);
    assert.equal((reply as FuzzReply).errorCode, 'TSL_ERR_TRUNCATED');
  });

  it('a huge pcap record (snaplen 0xffffffff) read in small pieces is collected in linear time', { timeout: HANG_MS + 10_000 }, async () => {
    const file = Buffer.alloc(24 + 16 + (48 << 20));
    file.writeUInt32LE(0xa1b2c3d4, 0);
    file.writeUInt16LE(2, 4);
    file.writeUInt16LE(4, 6);
    file.writeUInt32LE(0xffffffff, 16); // snaplen
    file.writeUInt32LE(1, 20);
    // incl_len: 60 MiB, within what a snaplen this large is trusted with (64 MiB), beyond the 48 MiB there are.
    file.writeUInt32LE(60 << 20, 24 + 8);
    file.writeUInt32LE(60 << 20, 24 + 12);
    const reply = await runInWorker(file, 16 << 10);
    assert.notEqual(reply, 'hang', 'the analysis did not finish');
    assert.equal((reply as FuzzReply).crash, null);
    assert.equal((reply as FuzzReply).errorCode, 'TSL_ERR_TRUNCATED');
  });
});

// Network time that goes backwards (packets out of order, or rotated files that overlap): a
// connection whose removal is already due behind the timer wheel's cursor was put in a bucket
// the wheel had passed, and stayed in memory until its next packet or the end of the capture.
it('a connection first seen after time went backwards still leaves memory when its timers run out', async () => {
  const seg = (t: number, s: Parameters<typeof tcpIpPacket>[0]) => ({ ts: t, data: ethernet(tcpIpPacket(s)) });
  const frames = [
    // Time reaches 100 s.
    ...handshakeDataClose(1700000100, '10.0.0.1', '10.0.0.2').map((s, i) => seg(1700000100 + i * 0.001, s)),
    // A refused connect stamped 50 s earlier: its removal (5 s after the RST) is long past.
    seg(1700000050, { src: '10.0.0.3', dst: '10.0.0.4', sport: 41000, dport: 9, seq: 7, flags: 'S' }),
    seg(1700000050.001, { src: '10.0.0.4', dst: '10.0.0.3', sport: 9, dport: 41000, seq: 0, ack: 8, flags: 'RA' }),
    // Then time moves on, with two established connections that stay open to the end.
    ...[200, 300].flatMap((at, i) => {
      const [c, s] = [`10.0.1.${i}`, `10.0.2.${i}`];
      return [
        seg(1700000000 + at, { src: c, dst: s, sport: 42000, dport: 80, seq: 1, flags: 'S' }),
        seg(1700000000 + at + 0.001, { src: s, dst: c, sport: 80, dport: 42000, seq: 9, ack: 2, flags: 'SA' }),
        seg(1700000000 + at + 0.002, { src: c, dst: s, sport: 42000, dport: 80, seq: 2, ack: 10, flags: 'A' }),
      ];
    }),
  ];
  const r = await analyzeBuffer(pcapFile(frames));
  assert.equal(r.error, null);
  const refused = r.connections.find((c) => c.conn_state === 'REJ')!;
  assert.equal(refused.end_reason, 'timeout');
  // The refused connect was gone by the time the later two were open together.
  assert.equal(r.summary!.peak_live_connections, 2);
});

it('a corrupt snaplen cannot make one record length be trusted up to 4 GiB', async () => {
  const header = pcapFile([], { snaplen: 0xffffffff });
  const record = (len: number): Buffer => {
    const h = Buffer.alloc(16);
    h.writeUInt32LE(1700000000, 0);
    h.writeUInt32LE(len, 8);
    h.writeUInt32LE(len, 12);
    return h;
  };
  // 3 GiB claimed: refused at its header, before a byte of it is collected.
  const huge = await analyzeBuffer(Buffer.concat([header, record(3 * 2 ** 30), Buffer.alloc(1 << 20)]), {}, 1 << 16);
  assert.equal(huge.error?.code, 'TSL_ERR_CORRUPT');
  assert.match(huge.error!.message, /record length 3221225472 is larger than any packet can be/);
  // 20 MiB (a jumbo TSO capture with a large snaplen): still a record.
  const big = 20 * 2 ** 20;
  const ok = await analyzeBuffer(Buffer.concat([header, record(big), Buffer.alloc(big)]), {}, 1 << 16);
  assert.equal(ok.error, null);
  assert.equal(ok.summary!.frames, 1);
});
