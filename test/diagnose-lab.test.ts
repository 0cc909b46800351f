/**
 * Ground truth: every lab scenario runs for real (src/lab: namespaces, real sockets, tcpdump,
 * the kernel's tcp_send_reset), and `analyze` on the capture alone — the `-i lo` pcap and the
 * `-i any` (Linux cooked) pcap — must name, for every RST that reached the wire, the same sender
 * and the same kernel reason as the kernel did, and must predict every errno an application
 * really got. Where the wire cannot tell two kernel reasons apart, the finding must say UNKNOWN
 * with exactly the listed candidates (AMBIGUOUS below), and the test asserts that.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { analyze } from '../src/analyze/analyze.js';
import type { ConnectionRecord } from '../src/analyze/records.js';
import { runScenario, SCENARIOS, type Truth, type TruthConnection } from '../src/lab/index.js';

/**
 * Scenarios whose RST the wire cannot attribute to one kernel reason: side → candidates, in the
 * order the finding lists them. Each entry says why.
 */
const AMBIGUOUS: Record<string, { by: 'orig' | 'resp'; candidates: string[] }> = {
  // close() then data: a FIN_WAIT2 mini-socket (TCP_TIMEWAIT_SOCKET); shutdown(SHUT_RDWR) then data:
  // a full socket refusing it (TCP_ABORT_ON_DATA). Same segments, same RST.
  'write-after-peer-close': { by: 'resp', candidates: ['TCP_TIMEWAIT_SOCKET', 'TCP_ABORT_ON_DATA'] },
  'write-after-shutdown': { by: 'resp', candidates: ['TCP_TIMEWAIT_SOCKET', 'TCP_ABORT_ON_DATA'] },
  // An abort in FIN_WAIT2: TCP_LINGER2 < 0 or SO_LINGER 0 / the FIN_WAIT2 timer.
  'linger2-fin-wait2-abort': { by: 'orig', candidates: ['TCP_STATE', 'TCP_ABORT_ON_LINGER'] },
  // A server port answering a non-SYN: TCP_FLAGS with a listener, NO_SOCKET without.
  'half-open': { by: 'resp', candidates: ['TCP_FLAGS', 'NO_SOCKET'] },
  'time-wait-assassination': { by: 'resp', candidates: ['NO_SOCKET', 'TCP_FLAGS'] },
  'time-wait-assassination-rfc1337': { by: 'resp', candidates: ['NO_SOCKET', 'TCP_FLAGS'] },
};

/** errnos that come from the application's own situation, not from this connection's packets. */
const NOT_FROM_THE_WIRE = new Set(['EADDRNOTAVAIL', 'EINPROGRESS', 'EALREADY']);

interface Run {
  name: string;
  truth: Truth;
  captures: Record<'capture.pcap' | 'capture-any.pcap', ConnectionRecord[]>;
}

const runs: Run[] = [];
let outDir = '';

async function records(file: string): Promise<ConnectionRecord[]> {
  const out: ConnectionRecord[] = [];
  for await (const r of analyze(file)) if (r.type === 'connection') out.push(r);
  return out;
}

function recordFor(recs: ConnectionRecord[], tc: TruthConnection): ConnectionRecord | undefined {
  const same = recs.filter((r) => r.orig.addr === tc.orig.addr && r.orig.port === tc.orig.port && r.resp.addr === tc.resp.addr && r.resp.port === tc.resp.port);
  return same.find((r) => tc.first !== null && Math.abs(r.first - tc.first) < 0.0005) ?? same[0];
}

describe('diagnosis against the lab\'s ground truth (real sockets, the kernel\'s own RST reasons)', { timeout: 600_000 }, () => {
  before(async () => {
    outDir = await mkdtemp(join(tmpdir(), 'tsl-diagnose-lab-'));
    for (const s of SCENARIOS) {
      const run = await runScenario(s, { outDir: join(outDir, s.name) });
      const truth = JSON.parse(await readFile(join(run.dir, 'truth.json'), 'utf8')) as Truth;
      runs.push({
        name: s.name,
        truth,
        captures: { 'capture.pcap': await records(join(run.dir, 'capture.pcap')), 'capture-any.pcap': await records(join(run.dir, 'capture-any.pcap')) },
      });
    }
  });

  after(async () => {
    if (outDir !== '') await rm(outDir, { recursive: true, force: true });
  });

  it('ran every scenario, and each reproduced what it expects', () => {
    assert.equal(runs.length, SCENARIOS.length);
    for (const r of runs) assert.deepEqual(r.truth.verdict.mismatches, [], r.name);
  });

  it('every RST on the wire: same sender and kernel reason (or the declared UNKNOWN), on the pcap and the -i any capture', () => {
    const problems: string[] = [];
    let checked = 0;
    for (const run of runs) {
      for (const file of ['capture.pcap', 'capture-any.pcap'] as const) {
        for (const tc of run.truth.connections) {
          const rec = recordFor(run.captures[file], tc);
          for (const rst of tc.resets) {
            if (rst.wire === null) continue; // never reached the capture point: nothing to diagnose
            checked++;
            const findings = rec?.findings ?? [];
            const amb = AMBIGUOUS[run.name];
            const where = `${run.name} ${file} RST by ${rst.by} (${rst.kernel?.reason ?? 'not the stack'})`;
            const got = findings.map((f) => `${f.kind}/${f.by}/${f.reason}${f.reason === 'UNKNOWN' ? `[${f.candidates?.join(',')}]` : ''}`).join(' ') || 'no finding';
            if (rst.kernel === null) {
              if (!findings.some((f) => f.by === 'network')) problems.push(`${where}: expected a finding by the network; got ${got}`);
            } else if (amb !== undefined && amb.by === rst.by) {
              const f = findings.find((x) => x.by === rst.by && x.reason === 'UNKNOWN');
              if (f === undefined || JSON.stringify(f.candidates) !== JSON.stringify(amb.candidates) || !amb.candidates.includes(rst.kernel.reason ?? '')) {
                problems.push(`${where}: expected UNKNOWN [${amb.candidates.join(',')}]; got ${got}`);
              }
            } else if (!findings.some((f) => f.by === rst.by && f.reason === rst.kernel!.reason)) {
              problems.push(`${where}: got ${got}`);
            }
          }
        }
      }
    }
    assert.deepEqual(problems, []);
    assert.ok(checked >= 30, `${checked} RSTs checked`);
  });

  it('every errno the applications got is among the findings\' predictions for that side', () => {
    const problems: string[] = [];
    let checked = 0;
    for (const run of runs) {
      for (const file of ['capture.pcap', 'capture-any.pcap'] as const) {
        for (const tc of run.truth.connections) {
          const rec = recordFor(run.captures[file], tc);
          for (const call of tc.calls) {
            if (call.errno === null || NOT_FROM_THE_WIRE.has(call.errno)) continue;
            checked++;
            const findings = rec?.findings ?? [];
            const predicted = findings.some((f) => f.errno[call.side] === call.errno || (f.calls?.[call.side] ?? []).some((c) => c.errno === call.errno));
            if (!predicted) problems.push(`${run.name} ${file}: ${call.role} ${call.call}() → ${call.errno} not predicted; findings: ${findings.map((f) => `${f.kind} ${JSON.stringify(f.errno)}`).join(' ') || 'none'}`);
          }
        }
      }
    }
    assert.deepEqual(problems, []);
    assert.ok(checked >= 20, `${checked} errnos checked`);
  });

  it('scenarios without an RST get their own finding (timeouts, stalls, windows)', () => {
    const want: Record<string, string> = {
      'syn-dropped-connect-timeout': 'connect-timeout',
      'user-timeout': 'retransmission-timeout',
      'mtu-black-hole': 'mtu-black-hole',
      'zero-window': 'zero-window',
      'keepalive-timeout': 'keepalive-timeout',
      'close-wait-port-reuse': 'port-reuse',
      'accept-overflow': 'accept-overflow',
      'accept-overflow-abort': 'accept-overflow',
      'accept-queue-slow-connect': 'slow-connect',
      'challenge-ack': 'challenge-ack',
    };
    for (const [name, kind] of Object.entries(want)) {
      const run = runs.find((r) => r.name === name);
      assert.ok(run !== undefined, name);
      for (const file of ['capture.pcap', 'capture-any.pcap'] as const) {
        const kinds = run.captures[file].flatMap((r) => r.findings.map((f) => f.kind));
        assert.ok(kinds.includes(kind), `${name} ${file}: ${kind} expected; got ${kinds.join(', ') || 'none'}`);
      }
    }
  });

  it('a receiver with a 4 KiB SO_RCVBUF that never reads: its window fills to the edge, then shuts — a slow reader', () => {
    const run = runs.find((r) => r.name === 'zero-window');
    assert.ok(run !== undefined);
    for (const file of ['capture.pcap', 'capture-any.pcap'] as const) {
      const recs: ConnectionRecord[] = run.captures[file].filter((r) => r.findings.some((f) => f.kind === 'zero-window'));
      assert.equal(recs.length, 1, file);
      const full = recs[0]!.findings.find((f) => f.kind === 'window-full');
      assert.ok(full !== undefined, `${file}: ${recs[0]!.findings.map((f) => f.kind).join(', ')}`);
      assert.equal(full.by, 'resp');
      assert.match(full.summary, /slow reader/);
      assert.ok((recs[0]!.stats?.orig.window_full_segs ?? 0) >= 1);
    }
  });
});
