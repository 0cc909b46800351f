/**
 * Zeek's own test traces with the conn.log rows Zeek's test suite expects for them
 * (../shared/conformance/zeek): every primary row must come out of `analyze` with the same
 * conn_state, history and counters. See that folder's README for how the rows were derived.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { analyze, type AnalyzeOptions } from '../src/analyze/analyze.js';
import type { ConnectionRecord, SummaryRecord } from '../src/analyze/records.js';
import { DEFAULT_LIKELY_SERVER_PORTS } from '../src/tcp/tracker.js';
import { conformanceDir } from './helpers/paths.js';

interface ExpectedRow {
  trace: string;
  orig_h: string | null;
  orig_p: number | null;
  resp_h: string | null;
  resp_p: number | null;
  conn_state: string | null;
  history: string | null;
  orig_pkts: number | null;
  resp_pkts: number | null;
  orig_bytes: number | null;
  resp_bytes: number | null;
  missed_bytes: number | null;
  orig_ip_bytes: number | null;
  resp_ip_bytes: number | null;
  unset_in_log: string[];
  derived: null | { conn_state?: string; orig_h?: string; orig_p?: number; resp_h?: string; resp_p?: number };
  primary: boolean;
  zeek_ignore_checksums: boolean;
  zeek_bare_mode: boolean;
  test_script: string;
}

const ZEEK = join(conformanceDir, 'zeek');
const rows: ExpectedRow[] = readFileSync(join(ZEEK, 'expected.jsonl'), 'utf8')
  .split('\n')
  .filter((l) => l.trim() !== '')
  .map((l) => JSON.parse(l) as ExpectedRow)
  .filter((r) => r.primary);

/**
 * In bare mode (-b) Zeek's likely_server_ports holds only the ports of the analyzers the test
 * loads (README, "Orientation and ^"): HTTP's 80 for the missing-syn and Teredo tests, Modbus's
 * 502 for the modbus test; connection_flipped redefines it to empty; the others load none.
 */
const BARE_MODE_SERVER_PORTS: Record<string, number[]> = {
  'testing/btest/core/tcp/missing-syn.zeek': [80],
  'testing/btest/core/tunnels/teredo.zeek': [80],
  'testing/btest/scripts/base/protocols/modbus/events.zeek': [502],
};

/** IPv6 addresses in the baselines are written in full in some rows; compare canonical forms. */
function canonical(addr: string): string {
  return addr.includes(':') ? addr.toLowerCase().replace(/\b0+([0-9a-f])/g, '$1') : addr;
}

function optionsFor(sample: ExpectedRow): AnalyzeOptions {
  const ports = sample.zeek_bare_mode ? new Set(BARE_MODE_SERVER_PORTS[sample.test_script] ?? []) : DEFAULT_LIKELY_SERVER_PORTS;
  return { verifyChecksums: !sample.zeek_ignore_checksums, likelyServerPorts: ports };
}

async function analyzeTrace(trace: string, sample: ExpectedRow): Promise<ConnectionRecord[]> {
  const out: ConnectionRecord[] = [];
  for await (const r of analyze(join(ZEEK, 'traces', trace), optionsFor(sample))) {
    if (r.type === 'connection') out.push(r);
  }
  return out;
}

async function analyzeSummary(trace: string, sample: ExpectedRow): Promise<SummaryRecord> {
  let summary: SummaryRecord | null = null;
  for await (const r of analyze(join(ZEEK, 'traces', trace), optionsFor(sample))) if (r.type === 'summary') summary = r;
  return summary!;
}

function tupleOf(r: ExpectedRow): string | null {
  const oh = r.orig_h ?? r.derived?.orig_h;
  if (oh === undefined || oh === null) return null;
  return `${canonical(oh)}:${r.orig_p ?? r.derived?.orig_p} > ${canonical(r.resp_h ?? r.derived?.resp_h ?? '')}:${r.resp_p ?? r.derived?.resp_p}`;
}

function tupleOfRecord(r: ConnectionRecord): string {
  return `${canonical(r.orig.addr)}:${r.orig.port} > ${canonical(r.resp.addr)}:${r.resp.port}`;
}

/** The fields a row states, in our record's terms; unset fields must be null in ours too. */
function expectedView(r: ExpectedRow): Record<string, unknown> {
  const v: Record<string, unknown> = { conn_state: r.conn_state ?? r.derived?.conn_state ?? null };
  if (r.history !== null) v['history'] = r.history;
  for (const k of ['orig_pkts', 'resp_pkts', 'orig_bytes', 'resp_bytes', 'missed_bytes', 'orig_ip_bytes', 'resp_ip_bytes'] as const) {
    if (r[k] !== null) v[k] = r[k];
    else if (r.unset_in_log.includes(k)) v[k] = null;
  }
  return v;
}

function actualView(r: ConnectionRecord, keys: string[]): Record<string, unknown> {
  const all = r as unknown as Record<string, unknown>;
  return Object.fromEntries(keys.map((k) => [k, all[k]]));
}

const byTrace = new Map<string, ExpectedRow[]>();
for (const r of rows) byTrace.set(r.trace, [...(byTrace.get(r.trace) ?? []), r]);

describe('Zeek conformance: conn_state, history and counters of every primary row', () => {
  it('covers every trace of the suite', () => {
    assert.equal(byTrace.size, 24);
    assert.equal(rows.length, 127);
  });

  for (const [trace, expected] of byTrace) {
    it(trace, async () => {
      const got = await analyzeTrace(trace, expected[0]!);
      assert.equal(got.length, expected.length, `${trace}: ${got.length} connections, Zeek has ${expected.length}: ${got.map((g) => `${tupleOfRecord(g)} ${g.conn_state} ${g.history}`).join('; ')}`);
      if (trace === 'syn-bad.pcap') {
        // The one SYN fails its checksum: counted in the summary, dropped from the connection.
        const summary = await analyzeSummary(trace, expected[0]!);
        assert.equal(summary.bad_checksum_segments, 1);
      }
      // Rows of one 5-tuple are compared as multisets: the baselines list them in log order.
      const unmatched = [...got];
      for (const row of expected) {
        const want = expectedView(row);
        const keys = Object.keys(want);
        const tuple = tupleOf(row);
        const idx = unmatched.findIndex((g) => (tuple === null || tupleOfRecord(g) === tuple) && JSON.stringify(actualView(g, keys)) === JSON.stringify(want));
        if (idx < 0) {
          const candidates = unmatched.filter((g) => tuple === null || tupleOfRecord(g) === tuple).map((g) => actualView(g, keys));
          assert.fail(`${trace} ${tuple ?? '(only conversation)'}: no connection matches ${JSON.stringify(want)}; candidates: ${JSON.stringify(candidates)}`);
        }
        unmatched.splice(idx, 1);
      }
    });
  }
});
