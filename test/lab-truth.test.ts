/**
 * The comparison between the capture-only diagnosis and the kernel, and the expectation check,
 * on hand-made inputs (no kernel needed).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Finding } from '../src/analyze/records.js';
import { compareDiagnosis, summarizeDiagnosis } from '../src/lab/agreement.js';
import { checkExpectation, type Observed } from '../src/lab/expect.js';
import type { TruthReset } from '../src/lab/truth.js';
import { buildTcpV4, TCP_FLAGS } from '../src/lab/packet-craft.js';

const rst = (by: 'orig' | 'resp', reason: string | null): TruthReset => ({
  by,
  role: by === 'orig' ? 'client' : 'server',
  from: { addr: '198.18.0.1', port: 1 },
  to: { addr: '198.18.0.2', port: 2 },
  kernel: reason === null ? null : { reason, reason_code: 1, state: null, no_socket: true, ts: 0 },
  wire: { frame: 2, ts: 0, flags: 'R.', seq: 0, ack: 1 },
});

const finding = (by: Finding['by'], reason: string): Finding => ({ kind: 'refused', by, reason, confidence: 0.9, frames: [2], errno: { orig: 'ECONNREFUSED', resp: null }, summary: '', advice: '' });

test('no findings: every RST is "no-finding"', () => {
  assert.deepEqual(compareDiagnosis({ resets: [rst('resp', 'NO_SOCKET')], findings: [] }).map((d) => d.result), ['no-finding']);
});

test('a finding with the same sender and reason agrees; another reason or sender disagrees', () => {
  assert.equal(compareDiagnosis({ resets: [rst('resp', 'NO_SOCKET')], findings: [finding('resp', 'NO_SOCKET')] })[0]!.result, 'agrees');
  assert.equal(compareDiagnosis({ resets: [rst('resp', 'NO_SOCKET')], findings: [finding('orig', 'NO_SOCKET')] })[0]!.result, 'disagrees');
  assert.equal(compareDiagnosis({ resets: [rst('resp', 'NO_SOCKET')], findings: [finding('resp', 'TCP_ABORT_ON_CLOSE')] })[0]!.result, 'disagrees');
});

test('UNKNOWN is "ambiguous" when the kernel\'s reason is among its candidates, a disagreement when not', () => {
  const unknown = (candidates: string[]): Finding => ({ ...finding('resp', 'UNKNOWN'), candidates });
  assert.equal(compareDiagnosis({ resets: [rst('resp', 'TCP_FLAGS')], findings: [unknown(['TCP_FLAGS', 'NO_SOCKET'])] })[0]!.result, 'ambiguous');
  assert.equal(compareDiagnosis({ resets: [rst('resp', 'TCP_STATE')], findings: [unknown(['TCP_FLAGS', 'NO_SOCKET'])] })[0]!.result, 'disagrees');
  // An exact finding wins over an ambiguous one.
  assert.equal(compareDiagnosis({ resets: [rst('resp', 'NO_SOCKET')], findings: [unknown(['TCP_FLAGS', 'NO_SOCKET']), finding('resp', 'NO_SOCKET')] })[0]!.result, 'agrees');
});

test('an RST the TCP stack did not send agrees with a finding by "network"', () => {
  assert.equal(compareDiagnosis({ resets: [rst('resp', null)], findings: [finding('network', 'NETFILTER')] })[0]!.result, 'agrees');
  assert.equal(compareDiagnosis({ resets: [rst('resp', null)], findings: [finding('resp', 'NO_SOCKET')] })[0]!.result, 'disagrees');
});

test('an RST that never reached the wire is not compared: counted as not on the wire', () => {
  const dropped: TruthReset = { ...rst('resp', 'TCP_STATE'), wire: null };
  const checks = compareDiagnosis({ resets: [dropped, rst('resp', 'TCP_FLAGS')], findings: [{ ...finding('resp', 'UNKNOWN'), candidates: ['TCP_FLAGS', 'NO_SOCKET'] }] });
  assert.deepEqual(checks.map((d) => d.result), ['not-on-wire', 'ambiguous']);
  assert.deepEqual(summarizeDiagnosis(checks), { status: 'agrees-or-ambiguous', agree: 0, ambiguous: 1, disagree: 0, undiagnosed: 0, not_on_wire: 1 });
});

test('the run\'s status: no RST on the wire is "no-rst", not an agreement; partial counts only real agreements', () => {
  assert.equal(summarizeDiagnosis([]).status, 'no-rst');
  const offWire = compareDiagnosis({ resets: [{ ...rst('resp', 'TCP_STATE'), wire: null }], findings: [] });
  assert.deepEqual(summarizeDiagnosis(offWire), { status: 'no-rst', agree: 0, ambiguous: 0, disagree: 0, undiagnosed: 0, not_on_wire: 1 });
  const two = compareDiagnosis({ resets: [rst('resp', 'NO_SOCKET'), rst('orig', 'TCP_STATE')], findings: [finding('resp', 'NO_SOCKET')] });
  assert.equal(summarizeDiagnosis(two).status, 'partial');
  assert.equal(summarizeDiagnosis(two).agree, 1);
  assert.equal(summarizeDiagnosis(compareDiagnosis({ resets: [rst('resp', 'NO_SOCKET')], findings: [] })).status, 'disagrees');
});

const observed: Observed = {
  resets: [{ from: 'server', reason: 'NO_SOCKET', state: null, on_wire: true }],
  calls: [{ role: 'client', call: 'connect', errno: 'ECONNREFUSED' }],
  drops: ['NO_SOCKET'],
  socket_errors: ['ECONNREFUSED'],
  conn_states: ['REJ'],
  histories: ['Sr'],
};

test('an expectation that holds gives no mismatch; each broken one gives a sentence', () => {
  assert.deepEqual(checkExpectation({ resets: [{ from: 'server', reason: 'NO_SOCKET', state: null }], onlyTheseResets: true, calls: [{ role: 'client', call: 'connect', errno: 'ECONNREFUSED' }], drops: ['NO_SOCKET'], connStates: ['REJ'], histories: ['r'] }, observed), []);
  const bad = checkExpectation({ resets: [{ from: 'client', reason: 'TCP_STATE' }], calls: [{ role: 'client', call: 'connect', errno: 'ETIMEDOUT' }], drops: ['NETFILTER_DROP'], connStates: ['S0'] }, observed);
  assert.equal(bad.length, 4, bad.join('\n'));
  assert.match(bad[0]!, /expected client RST TCP_STATE/);
  const extra = checkExpectation({ resets: [], onlyTheseResets: true, calls: [] }, observed);
  assert.deepEqual(extra, ['unexpected server RST NO_SOCKET in no state']);
  // A list of reasons accepts any one of them, and only those.
  const either = { resets: [{ from: 'server' as const, reason: ['TCP_TIMEWAIT_SOCKET', 'NO_SOCKET'] }], onlyTheseResets: true, calls: [] };
  assert.deepEqual(checkExpectation(either, observed), []);
  const neither = checkExpectation({ ...either, resets: [{ from: 'server', reason: ['TCP_TIMEWAIT_SOCKET', 'TCP_ABORT_ON_DATA'] }] }, observed);
  assert.deepEqual(neither, [
    'expected server RST TCP_TIMEWAIT_SOCKET or TCP_ABORT_ON_DATA; saw server RST NO_SOCKET in no state',
    'unexpected server RST NO_SOCKET in no state',
  ]);
});

test('crafted segments carry valid IPv4 and TCP checksums', () => {
  const p = buildTcpV4({ src: '198.18.0.2', dst: '198.18.0.1', sport: 40000, dport: 8080, seq: 1, ack: 0, flags: TCP_FLAGS.SYN });
  assert.equal(p.length, 40);
  const sum = (b: Buffer): number => {
    let s = 0;
    for (let i = 0; i < b.length; i += 2) s += b.readUInt16BE(i);
    while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
    return s;
  };
  assert.equal(sum(p.subarray(0, 20)), 0xffff, 'IPv4 header checksum');
  const pseudo = Buffer.concat([p.subarray(12, 20), Buffer.from([0, 6, 0, 20]), p.subarray(20)]);
  assert.equal(sum(pseudo), 0xffff, 'TCP checksum');
  assert.equal(p[33], TCP_FLAGS.SYN);
});
