/**
 * Fuzzing the readers and dissectors: real captures (Zeek's traces, and files in every format
 * variant) are mutated — bit flips, overwritten lengths, cuts, duplicated and inserted slices —
 * for a bounded time. Every input must end in a result or a typed TsleuthError, never another
 * exception and never a hang. A failing input is written to a file and named in the failure.
 *
 * TCPSLEUTH_FUZZ_SECONDS sets the time budget (default 15) and TCPSLEUTH_FUZZ_SEED the seed.
 */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { it } from 'node:test';
import { Worker } from 'node:worker_threads';
import { ethernet, gzip, handshakeDataClose, pcapFile, pcapngFile, tcpIpPacket } from './helpers/capture-builder.js';
import type { FuzzReply, FuzzRequest } from './helpers/fuzz-worker.js';
import { conformanceDir } from './helpers/paths.js';
import { prng } from './helpers/prng.js';

const BUDGET_MS = Number(process.env['TCPSLEUTH_FUZZ_SECONDS'] ?? 15) * 1000;
const HANG_MS = 5000;
const TYPED = new Set(['TSL_ERR_NOT_A_CAPTURE', 'TSL_ERR_TRUNCATED', 'TSL_ERR_CORRUPT', 'TSL_ERR_LINKTYPE']);

function seeds(): Array<[string, Buffer]> {
  const traces = ['ssh-dups.pcap', 'retransmit-fast009.pcap', 'http-on-irc-port-missing-syn.pcapng', 'Teredo.pcap', 'pop3.pcap', 'retransmit-timeout.pcapng'];
  const out: Array<[string, Buffer]> = traces.map((t) => [t, readFileSync(join(conformanceDir, 'zeek', 'traces', t))]);
  const frames = handshakeDataClose().map((s, i) => ({ ts: 1700000000 + i / 100, data: ethernet(tcpIpPacket(s)) }));
  out.push(['synthetic-be-ns.pcap', pcapFile(frames, { bigEndian: true, nanoseconds: true })]);
  out.push(['synthetic.pcapng', pcapngFile([{ interfaces: [{ linkType: 1 }, { linkType: 228, tsresol: 9 }], frames, unknownBlocks: 1 }, { bigEndian: true, interfaces: [{ linkType: 1 }], frames, blockType: 'pb' }])]);
  out.push(['synthetic.pcap.gz', gzip(pcapFile(frames))]);
  return out;
}

function mutate(src: Buffer, rnd: () => number): Buffer {
  const b = Buffer.from(src);
  const pos = () => Math.floor(rnd() * b.length);
  const kind = Math.floor(rnd() * 7);
  switch (kind) {
    case 0: // flip a few bits
      for (let i = 0, n = 1 + Math.floor(rnd() * 8); i < n; i++) b[pos()]! ^= 1 << Math.floor(rnd() * 8);
      return b;
    case 1: {
      // overwrite a 32-bit word with a length-like extreme
      const p = pos() & ~3;
      if (p + 4 <= b.length) b.writeUInt32LE([0, 0xffffffff, 0x7fffffff, 16, 12, Math.floor(rnd() * 70000)][Math.floor(rnd() * 6)]!, p);
      return b;
    }
    case 2: // cut
      return b.subarray(0, pos());
    case 3: {
      // duplicate a slice in place
      const p = pos();
      const q = Math.min(b.length, p + Math.floor(rnd() * 200));
      return Buffer.concat([b.subarray(0, q), b.subarray(p, q), b.subarray(q)]);
    }
    case 4: {
      // insert random bytes
      const p = pos();
      const junk = Buffer.from(Array.from({ length: 1 + Math.floor(rnd() * 64) }, () => Math.floor(rnd() * 256)));
      return Buffer.concat([b.subarray(0, p), junk, b.subarray(p)]);
    }
    case 5: // random bytes over a header-sized region
      for (let i = 0, p = pos(); i < 40 && p + i < b.length; i++) b[p + i] = Math.floor(rnd() * 256);
      return b;
    default: {
      // remove a slice
      const p = pos();
      return Buffer.concat([b.subarray(0, p), b.subarray(Math.min(b.length, p + 1 + Math.floor(rnd() * 100)))]);
    }
  }
}

it(`fuzz: mutated captures end in a result or a typed error, never a crash or a hang (${BUDGET_MS / 1000}s)`, { timeout: BUDGET_MS + 60_000 }, async () => {
  const seed = Number(process.env['TCPSLEUTH_FUZZ_SEED'] ?? Date.now() % 1e9);
  const rnd = prng(seed);
  const corpus = seeds();
  let worker = new Worker(new URL('./helpers/fuzz-worker.js', import.meta.url));
  const deadline = Date.now() + BUDGET_MS;
  let runs = 0;
  const outcomes = new Map<string, number>();
  try {
    while (Date.now() < deadline) {
      const [name, base] = corpus[Math.floor(rnd() * corpus.length)]!;
      let input = mutate(base, rnd);
      if (rnd() < 0.3) input = mutate(input, rnd);
      const req: FuzzRequest = { bytes: input, chunk: 1 + Math.floor(rnd() * 4096), verifyChecksums: rnd() < 0.5 };
      const reply = await new Promise<FuzzReply | 'hang'>((resolve) => {
        const timer = setTimeout(() => resolve('hang'), HANG_MS);
        worker.once('message', (m: FuzzReply) => {
          clearTimeout(timer);
          resolve(m);
        });
        worker.postMessage(req);
      });
      runs++;
      if (reply === 'hang' || reply.crash !== null || (reply.errorCode !== null && !TYPED.has(reply.errorCode))) {
        const saved = join(tmpdir(), `tcpsleuth-fuzz-${seed}-${runs}.bin`);
        writeFileSync(saved, input);
        if (reply === 'hang') {
          await worker.terminate();
          worker = new Worker(new URL('./helpers/fuzz-worker.js', import.meta.url));
        }
        assert.fail(`${reply === 'hang' ? 'hang' : (reply.crash ?? reply.errorCode)} on a mutation of ${name} (seed ${seed}, run ${runs}, chunk ${req.chunk}); input saved to ${saved}`);
      }
      const key = reply.errorCode ?? 'ok';
      outcomes.set(key, (outcomes.get(key) ?? 0) + 1);
    }
  } finally {
    await worker.terminate();
  }
  // The budget must have bought real coverage, with both clean reads and typed errors.
  assert.ok(runs > 200, `only ${runs} inputs in ${BUDGET_MS} ms`);
  assert.ok((outcomes.get('ok') ?? 0) > 0 && outcomes.size > 1, JSON.stringify([...outcomes]));
  console.log(`fuzz: ${runs} inputs (seed ${seed}): ${JSON.stringify(Object.fromEntries(outcomes))}`);
});
