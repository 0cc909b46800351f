/** The hand-written JSON serialiser must say exactly what JSON.stringify says, for every field shape. */
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { it } from 'node:test';
import { analyze } from '../src/analyze/analyze.js';
import type { ConnectionRecord } from '../src/analyze/records.js';
import { connectionToJson } from '../src/report/json.js';
import { conformanceDir } from './helpers/paths.js';

it('connectionToJson equals JSON.stringify on every connection of the conformance traces', async () => {
  const dir = join(conformanceDir, 'zeek', 'traces');
  let n = 0;
  for (const t of readdirSync(dir)) {
    for await (const r of analyze(join(dir, t), { verifyChecksums: true })) {
      if (r.type !== 'connection') continue;
      assert.equal(connectionToJson(r), JSON.stringify(r), `${t} #${r.id}`);
      n++;
    }
  }
  assert.ok(n > 100);
});

it('handles the optional shapes: nulls, weirds, ICMP, stats, findings, IPv6', () => {
  const r: ConnectionRecord = {
    type: 'connection', version: 1, id: 7,
    orig: { addr: '2001:db8::1', port: 1 }, resp: { addr: '2001:db8::2', port: 2 },
    ip_version: 6, tunnel_depth: 1, first: 1.5, last: 2.000001, duration: null,
    conn_state: 'REJ', history: 'Sr', orig_pkts: 1, resp_pkts: 1, orig_bytes: null, resp_bytes: null,
    missed_bytes: 0, orig_ip_bytes: 60, resp_ip_bytes: 40, orig_state: 'SYN_SENT', resp_state: 'RESET',
    packets: { first: 1, last: 2 }, end_reason: 'end_of_capture', weirds: ['SYN_seq_jump', 'x"y'],
    icmp: { count: 2, first_frame: 3, type: 3, code: 3 },
    stats: {
      orig: { retrans_segs: 2, retrans_bytes: 2896, out_of_order_segs: 1, zero_window_segs: 0, window_full_segs: 3, missed_bytes: 0 },
      resp: { retrans_segs: 0, retrans_bytes: 0, out_of_order_segs: 0, zero_window_segs: 4, window_full_segs: 0, missed_bytes: 1448 },
    },
    findings: [{ kind: 'refused', by: 'resp', reason: 'NO_SOCKET', confidence: 0.9, frames: [2], errno: { orig: 'ECONNREFUSED', resp: null }, summary: 'a "quoted" \\ line', advice: 'listen' }],
  };
  assert.equal(connectionToJson(r), JSON.stringify(r));
  assert.deepEqual(JSON.parse(connectionToJson(r)), r);
});
