/**
 * Findings never contradict Zeek's view of a connection: on every trace of Zeek's own test suite
 * (../shared/conformance/zeek), each finding must agree with the record's conn_state, history and
 * endpoint states — a "refused" only on REJ, an RST blamed on a side only where the history shows
 * that side's RST, a connect timeout only where the responder said nothing, a half-close stall
 * only where one side closed and the other did not, a zero window only where Zeek saw one, a
 * full window only where data was sent into it — and the capture loss counted per direction
 * adds up to Zeek's missed_bytes, on the sides its G/g history letters name.
 */
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { it } from 'node:test';
import { analyze } from '../src/analyze/analyze.js';
import type { ConnectionRecord, Finding } from '../src/analyze/records.js';
import { FINDING_KINDS } from '../src/diagnose/knowledge.js';
import { conformanceDir } from './helpers/paths.js';

/** Kinds whose finding is about one RST segment. */
const RST_KINDS = new Set(['refused', 'reset', 'middlebox-reset', 'port-reuse', 'time-wait-assassination']);

function contradiction(r: ConnectionRecord, f: Finding): string | null {
  const h = r.history;
  if (!FINDING_KINDS.includes(f.kind)) return `unknown kind ${f.kind}`;
  if (f.kind === 'refused' && r.conn_state !== 'REJ') return 'refused on a connection that is not REJ';
  const rstLike = RST_KINDS.has(f.kind) || (f.kind === 'keepalive-timeout' && f.reason !== 'NONE') || (f.kind === 'accept-overflow' && f.reason !== 'NONE');
  if (rstLike) {
    if (f.by === 'orig' && !/[RIQ]/.test(h)) return `an RST by the originator, history ${h} shows none`;
    if (f.by === 'resp' && !/[riq]/.test(h)) return `an RST by the responder, history ${h} shows none`;
    if (f.by === 'network' && !/[RIQriq]/.test(h)) return `an RST from the network, history ${h} shows none`;
  }
  if (f.kind === 'connect-timeout' && (r.resp_pkts !== 0 || !['S0', 'RSTOS0', 'SH', 'OTH'].includes(r.conn_state))) return `connect-timeout on ${r.conn_state} with ${r.resp_pkts} responder packets`;
  if (f.kind === 'half-close-stall') {
    const silent = f.by === 'orig' ? r.orig_state : r.resp_state;
    const closer = f.by === 'orig' ? r.resp_state : r.orig_state;
    if (silent === 'CLOSED' || silent === 'RESET' || closer !== 'CLOSED') return `half-close-stall with states ${r.orig_state}/${r.resp_state}`;
  }
  if (f.kind === 'zero-window' && !h.includes(f.by === 'orig' ? 'W' : 'w')) return `zero-window by ${f.by}, history ${h} has no window letter`;
  // The window of `by` was full: the other side sent data into it.
  if (f.kind === 'window-full' && (f.by === 'network' || !h.includes(f.by === 'resp' ? 'D' : 'd'))) return `window-full by ${f.by}, history ${h} shows no data sent to it`;
  if (f.reason !== 'NONE' && f.reason !== 'UNKNOWN' && !/^[A-Z_]+$/.test(f.reason)) return `reason ${f.reason} is not a kernel name`;
  if (f.reason === 'UNKNOWN' && f.candidates === undefined) return 'UNKNOWN without candidates';
  if (!(f.confidence > 0 && f.confidence <= 1)) return `confidence ${f.confidence}`;
  if (f.frames.some((x) => x < r.packets.first || x > r.packets.last)) return `frames ${f.frames.join(',')} outside the connection's ${r.packets.first}-${r.packets.last}`;
  return null;
}

it('findings never contradict conn_state and history on the Zeek conformance traces', async () => {
  const dir = join(conformanceDir, 'zeek', 'traces');
  let findings = 0;
  let refused = 0;
  let resets = 0;
  const problems: string[] = [];
  for (const t of readdirSync(dir)) {
    for await (const r of analyze(join(dir, t), { verifyChecksums: false })) {
      if (r.type !== 'connection') continue;
      for (const f of r.findings) {
        findings++;
        if (f.kind === 'refused') refused++;
        if (f.kind === 'reset') resets++;
        const why = contradiction(r, f);
        if (why !== null) problems.push(`${t} #${r.id} ${r.conn_state} ${r.history}: ${f.kind}/${f.by}/${f.reason}: ${why}`);
      }
      if (r.conn_state === 'REJ' && !r.findings.some((f) => f.kind === 'refused' || f.kind === 'middlebox-reset')) {
        problems.push(`${t} #${r.id}: REJ without a refused (or forged-RST) finding`);
      }
      if (r.conn_state === 'SF' && r.findings.some((f) => f.kind === 'connect-timeout' || f.kind === 'refused' || f.kind === 'half-close-stall')) {
        problems.push(`${t} #${r.id}: a completed connection (SF) with a failure of its opening or closing`);
      }
      // Capture loss per direction adds up to Zeek's missed_bytes, on the side Zeek's G/g letters name.
      const missed = { orig: r.stats?.orig.missed_bytes ?? 0, resp: r.stats?.resp.missed_bytes ?? 0 };
      if (missed.orig + missed.resp !== r.missed_bytes) problems.push(`${t} #${r.id}: missed bytes ${missed.orig} + ${missed.resp} ≠ ${r.missed_bytes}`);
      if ((missed.orig > 0) !== r.history.includes('G') || (missed.resp > 0) !== r.history.includes('g')) {
        problems.push(`${t} #${r.id}: missed bytes ${missed.orig}/${missed.resp} per direction, history ${r.history}`);
      }
    }
  }
  assert.deepEqual(problems, []);
  // The traces hold refusals and resets: the checks above must have had something to check.
  assert.ok(findings >= 25, `${findings} findings`);
  assert.ok(refused >= 6, `${refused} refused`);
  assert.ok(resets >= 8, `${resets} resets`);
});
