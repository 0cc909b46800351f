/**
 * Inputs that fuzzing found to crash or hang the analysis, kept as regression tests. Each runs
 * in a worker (test/helpers/fuzz-worker.ts) so that a hang — a synchronous endless loop — fails
 * the test instead of stalling the run.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Worker } from 'node:worker_threads';
import { ethernet, handshakeDataClose, pcapngFile, tcpIpPacket } from './helpers/capture-builder.js';
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
});
