/**
 * The text report's digest keeps only what it shows: it must show exactly what sorting every
 * record would have shown, with the counts of everything.
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import type { ConnectionRecord, Finding } from '../src/analyze/records.js';
import { FAILURE_KINDS } from '../src/diagnose/knowledge.js';
import { byInterest, OBSERVATION_IDS, ReportDigest, TopItems } from '../src/report/digest.js';
import { FailureFeed } from '../src/report/failure-feed.js';
import { HeavyHitters } from '../src/report/heavy-hitters.js';
import { formatTime } from '../src/report/terminal.js';
import { renderConnectionTable, renderFindings } from '../src/report/text.js';
import type { ConnState } from '../src/tcp/conn-state.js';

const STATES: ConnState[] = ['SF', 'SF', 'SF', 'REJ', 'S0', 'RSTO', 'RSTR', 'S1', 'OTH'];
const KINDS = ['refused', 'reset', 'connect-timeout', 'retransmissions', 'zero-window'];
const BY = ['orig', 'resp', 'network'] as const;
const REASONS = ['NONE', 'NO_SOCKET', 'TCP_ABORT_ON_CLOSE'];

function records(n: number): ConnectionRecord[] {
  let seed = 5;
  const rand = (k: number): number => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return (seed >>> 8) % k;
  };
  const out: ConnectionRecord[] = [];
  for (let id = 1; id <= n; id++) {
    const findings: Finding[] = [];
    for (let k = rand(4) === 0 ? 1 + rand(2) : 0; k > 0; k--) {
      findings.push({
        kind: KINDS[rand(KINDS.length)]!,
        by: BY[rand(BY.length)]!,
        reason: REASONS[rand(REASONS.length)]!,
        confidence: rand(10) / 10,
        frames: [],
        errno: { orig: null, resp: null },
        summary: `s${id}`,
        advice: '',
      });
    }
    // Records arrive in the order connections end, not by id or start time.
    const resp = { addr: `10.0.0.${rand(3)}`, port: 80 };
    out.push({ id, conn_state: STATES[rand(STATES.length)]!, first: 1000 + rand(500), history: 'Sh', resp, findings } as unknown as ConnectionRecord);
  }
  return out;
}

it('TopItems keeps the first items in order, all of them with capacity 0', () => {
  const values = Array.from({ length: 2000 }, (_, i) => (i * 7919) % 1009);
  for (const cap of [0, 1, 5, 40, 3000]) {
    const top = new TopItems<number>(cap, (a, b) => a - b);
    for (const v of values) top.add(v);
    const sorted = [...values].sort((a, b) => a - b);
    assert.deepEqual(top.items, cap === 0 ? sorted : sorted.slice(0, cap));
  }
});

it('the digest shows what a full sort would, and counts everything', () => {
  const all = records(5000);
  const d = ReportDigest.of(all, 40, 3);
  assert.equal(d.total, all.length);
  assert.deepEqual(d.table.items, [...all].sort(byInterest).slice(0, 40));
  for (const kind of KINDS) {
    const pairs = all.flatMap((r) => r.findings.filter((f) => f.kind === kind).map((f) => [r, f] as const));
    const g = d.groups.get(kind)!;
    assert.equal(g.count, pairs.length, kind);
    const shown = g.shown.items.map(([r, f]) => [r.id, f.confidence]);
    if (!FAILURE_KINDS.has(kind)) {
      // Observations name the lowest ids.
      assert.deepEqual(shown, pairs.sort((a, b) => a[0].id - b[0].id).slice(0, OBSERVATION_IDS).map(([r, f]) => [r.id, f.confidence]));
    } else {
      const byConfidence = pairs.sort((a, b) => b[1].confidence - a[1].confidence || a[0].id - b[0].id);
      assert.deepEqual(shown, byConfidence.slice(0, 3).map(([r, f]) => [r.id, f.confidence]), kind);
    }
  }
  assert.equal(d.healthyCount, all.filter((r) => r.findings.length === 0).length);
  const everything = ReportDigest.of(all, 0, 0);
  assert.equal(everything.table.items.length, all.length);
});

it('the digest tallies each failure kind by reason, actor and responder', () => {
  const all = records(5000);
  const d = ReportDigest.of(all, 40, 3);
  for (const kind of KINDS) {
    const spread = d.groups.get(kind)!.spread;
    if (!FAILURE_KINDS.has(kind)) {
      assert.equal(spread, null, kind);
      continue;
    }
    const pairs = all.flatMap((r) => r.findings.filter((f) => f.kind === kind).map((f) => [r, f] as const));
    const mine = pairs.map(([r]) => `${r.resp.addr}:${r.resp.port}`);
    const tally = (keys: string[]): Map<string, number> => {
      const m = new Map<string, number>();
      for (const k of keys) m.set(k, (m.get(k) ?? 0) + 1);
      return m;
    };
    const sorted = (m: Map<string, number>): Array<[string, number]> => [...m].sort((a, b) => (a[0] < b[0] ? -1 : 1));
    assert.deepEqual(sorted(spread!.reasons), sorted(tally(pairs.map(([, f]) => f.reason))));
    // The records show a handshake ('Sh'): client and server, and the network for a path's doing.
    const names = { orig: 'client', resp: 'server', network: 'network' } as const;
    assert.deepEqual(sorted(spread!.actors), sorted(tally(pairs.map(([, f]) => names[f.by]))));
    // Three responders fit the counters: the counts are exact.
    const exact = new Map<string, number>();
    for (const k of mine) exact.set(k, (exact.get(k) ?? 0) + 1);
    assert.equal(spread!.responders.distinct, exact.size);
    for (const h of spread!.responders.top(10)) {
      assert.equal(h.error, 0);
      assert.equal(h.count, exact.get(h.key), h.key);
    }
  }
});

it('HeavyHitters: exact below its capacity; above it, every heavy key is kept and each count bounds the true one', () => {
  const small = new HeavyHitters(4);
  for (const k of ['a', 'b', 'a', 'c', 'a', 'b']) small.add(k);
  assert.deepEqual(small.top(2), [
    { key: 'a', count: 3, error: 0 },
    { key: 'b', count: 2, error: 0 },
  ]);
  assert.equal(small.distinct, 3);

  // A scan: 20,000 keys seen once, interleaved with three heavy hitters (1/10, 1/20, 1/40 of the stream).
  const hh = new HeavyHitters(64);
  const truth = new Map<string, number>();
  const add = (k: string): void => {
    hh.add(k);
    truth.set(k, (truth.get(k) ?? 0) + 1);
  };
  for (let i = 0; i < 20000; i++) {
    add(`scan${i}`);
    if (i % 8 === 0) add('heavy1');
    if (i % 17 === 0) add('heavy2');
    if (i % 35 === 0) add('heavy3');
  }
  const top = hh.top(3);
  assert.deepEqual(top.map((h) => h.key), ['heavy1', 'heavy2', 'heavy3']);
  for (const h of hh.top(64)) {
    const n = truth.get(h.key)!;
    assert.ok(h.count - h.error <= n && n <= h.count, `${h.key}: ${h.count - h.error} ≤ ${n} ≤ ${h.count}`);
  }
  assert.equal(hh.distinct, null);
  assert.throws(() => new HeavyHitters(0), RangeError);
});

it('times no calendar date can hold (a corrupt pcapng timestamp) are printed in seconds, and the table stays readable', () => {
  assert.equal(formatTime(1709251200.1), '2024-03-01 00:00:00.100000');
  assert.equal(formatTime(1e13), '10000000000000.000000 s after the epoch');
  // Year 10000 and later, and before the epoch: no four-digit date.
  assert.equal(formatTime(253402300799.5), '9999-12-31 23:59:59.500000');
  assert.equal(formatTime(253402300800), '253402300800.000000 s after the epoch');
  assert.equal(formatTime(-0.5), '-0.500000 s after the epoch');
  assert.equal(formatTime(Number.POSITIVE_INFINITY), 'Infinity s after the epoch');
  const r = {
    id: 1,
    first: 1e13,
    orig: { addr: '10.0.0.1', port: 40000 },
    resp: { addr: '10.0.0.2', port: 80 },
    conn_state: 'SF',
    history: 'ShADadfF',
    orig_pkts: 5,
    resp_pkts: 5,
    orig_bytes: 18,
    resp_bytes: 24,
    duration: 8,
    findings: [],
  } as unknown as ConnectionRecord;
  const row = renderConnectionTable(ReportDigest.of([r], 40, 3)).split('\n')[1]!;
  assert.match(row, /^1\s+10000000000000\.000000 s after the epoch 10\.0\.0\.1:40000\s+10\.0\.0\.2:80\s+SF\s/);
});

it('the tally line leaves out NONE (no RST involved) and names who acted', () => {
  const rec = (id: number, by: 'orig' | 'resp' | 'network', reason: string, addr: string): ConnectionRecord =>
    ({
      id,
      conn_state: 'RSTO',
      first: 1000 + id,
      history: 'ShAR',
      resp: { addr, port: 443 },
      orig: { addr: '10.0.0.1', port: 40000 + id },
      findings: [{ kind: 'reset', by, reason, confidence: 0.5, frames: [], errno: { orig: null, resp: null }, summary: `s${id}`, advice: '' }],
    }) as unknown as ConnectionRecord;
  const text = renderFindings(ReportDigest.of([rec(1, 'orig', 'NO_SOCKET', '10.0.0.9'), rec(2, 'orig', 'NONE', '10.0.0.9'), rec(3, 'network', 'NO_SOCKET', 'fd00::9')], 0, 1));
  assert.match(text, /reset — 3 findings \(tcpsleuth explain reset\)\n  reasons: NO_SOCKET 2; by the client 2, the network 1\n  at 2 responders, most at 10\.0\.0\.9:443 \(2\), \[fd00::9\]:443 \(1\)\n/);
});

it('the --follow feed shows 3 failures of a kind per 10 s of the capture clock as records come out, and counts the rest', () => {
  const rec = (id: number, kind: string): ConnectionRecord =>
    ({
      id,
      conn_state: 'REJ',
      first: 1000,
      history: 'Sr',
      orig: { addr: '10.0.0.1', port: 40000 + id },
      resp: { addr: '10.0.0.2', port: 80 },
      // The failures' own times are long before the records come out: the windows do not use them.
      findings: [{ kind, by: 'resp', reason: 'NO_SOCKET', confidence: 0.9, frames: [], errno: { orig: null, resp: null }, summary: `s${id}`, advice: '', time: 1000 }],
    }) as unknown as ConnectionRecord;
  const feed = new FailureFeed();
  const shown = (text: string | null): string[] => (text ?? '').split('\n').filter((l) => /^(refused|reset) \(|^… /.test(l));
  const out: string[] = [];
  // Five refused and two resets come out at 2000–2004, then two refused at 2009.5 (same window), then one at 2010.
  for (let i = 0; i < 5; i++) out.push(...shown(feed.add(rec(i, 'refused'), 2000 + i)));
  out.push(...shown(feed.add(rec(10, 'reset'), 2001)), ...shown(feed.add(rec(11, 'reset'), 2002)));
  out.push(...shown(feed.add(rec(5, 'refused'), 2009.5)), ...shown(feed.add(rec(6, 'refused'), 2009.5)));
  assert.deepEqual(feed.expired(2009.9), null);
  out.push(...shown(feed.add(rec(7, 'refused'), 2010)));
  // resets' window ends at 2011: nothing held back, nothing to say.
  assert.equal(feed.expired(2011), null);
  out.push(...shown(feed.add(rec(8, 'refused'), 2012)), ...shown(feed.add(rec(9, 'refused'), 2013)), ...shown(feed.add(rec(12, 'refused'), 2014)));
  const block = (k: string): string => `${k} (tcpsleuth explain ${k})`;
  const held = (n: number): string => `… ${n} more refused finding${n === 1 ? '' : 's'} in the same 10 s (not shown one by one; the report at the end tallies them)`;
  assert.deepEqual(out, [
    block('refused'), block('refused'), block('refused'),
    block('reset'), block('reset'),
    held(4), block('refused'),
    block('refused'), block('refused'),
  ]);
  // The second refused window (from 2010) held one back: said once it is over, not again at the end.
  assert.deepEqual(feed.expired(2020), held(1));
  assert.equal(feed.finish(), null);
});
