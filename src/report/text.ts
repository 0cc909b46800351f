/**
 * The default report: one line per connection, most interesting first, then a summary.
 */
import type { CallOutcome, ConnectionRecord, DirectionStats, Finding, SummaryRecord } from '../analyze/records.js';
import { errnoMessage, FAILURE_KINDS, FINDING_KINDS } from '../diagnose/knowledge.js';
import type { PacketRow } from '../analyze/packet-trace.js';
import { CONN_STATE_MEANING, type ConnState } from '../tcp/conn-state.js';
import { type FindingGroup, INTEREST, OBSERVATION_IDS, RESPONDER_COUNTERS, type ReportDigest } from './digest.js';
import type { HitCount } from './heavy-hitters.js';
import { sideName } from './side-name.js';
import { counted, endpointText, escapeForTerminal, formatBytes, formatDuration, formatTime } from './terminal.js';

/** `s` in a column `n` wide; a longer cell keeps one space before the next column. */
function pad(s: string, n: number): string {
  return s.length >= n ? `${s} ` : s + ' '.repeat(n - s.length);
}

/** The connection table: the digest's rows, most interesting first, and how many it left out. */
export function renderConnectionTable(d: ReportDigest): string {
  const shown = d.table.items;
  const lines: string[] = [];
  lines.push(
    `${pad('ID', 7)}${pad('FIRST (UTC)', 28)}${pad('ORIGINATOR', 24)}${pad('RESPONDER', 24)}${pad('STATE', 8)}${pad('HISTORY', 14)}${pad('PKTS o/r', 12)}${pad('BYTES o/r', 20)}DURATION`,
  );
  for (const r of shown) {
    lines.push(
      pad(String(r.id), 7) +
        pad(formatTime(r.first), 28) +
        pad(endpointText(r.orig.addr, r.orig.port), 24) +
        pad(endpointText(r.resp.addr, r.resp.port), 24) +
        pad(r.conn_state, 8) +
        pad(escapeForTerminal(r.history), 14) +
        pad(`${r.orig_pkts}/${r.resp_pkts}`, 12) +
        pad(r.orig_bytes === null ? '-' : `${formatBytes(r.orig_bytes)}/${formatBytes(r.resp_bytes ?? 0)}`, 20) +
        formatDuration(r.duration),
    );
  }
  if (shown.length < d.total) lines.push(`… ${counted(d.total - shown.length, 'more connection')} (--limit 0 shows all, --json gives every field)`);
  return lines.join('\n');
}

export function renderSummary(s: SummaryRecord): string {
  const lines: string[] = [];
  const linkTypes = Object.entries(s.link_types)
    .map(([k, v]) => `${v.name} [${k}] ${v.frames}`)
    .join(', ');
  lines.push(`${escapeForTerminal(s.file)}: ${s.format ?? 'unknown format'}${s.compressed ? ' (gzip)' : ''}, ${counted(s.frames, 'frame')}, ${formatBytes(s.bytes)}${linkTypes ? `; link types: ${linkTypes}` : ''}`);
  if (s.first !== null && s.last !== null) lines.push(`time: ${formatTime(s.first)} → ${formatTime(s.last)} (${formatDuration(s.last - s.first)})`);
  lines.push(`${counted(s.tcp_segments, 'TCP segment')} in ${counted(s.connections, 'connection')}; ${counted(s.non_tcp_frames, 'other frame')}`);
  const states = (Object.entries(s.conn_states) as Array<[ConnState, number]>).sort((a, b) => INTEREST[a[0]] - INTEREST[b[0]]);
  for (const [state, n] of states) lines.push(`  ${pad(state, 7)}${pad(String(n), 8)}${CONN_STATE_MEANING[state]}`);
  if (s.icmp_errors.attributed + s.icmp_errors.unmatched > 0) {
    lines.push(`ICMP errors about TCP: ${s.icmp_errors.attributed} matched to a connection, ${s.icmp_errors.unmatched} unmatched`);
  }
  if (s.live !== undefined) lines.push(liveText(s.live));
  if (s.interrupted) lines.push('interrupted (Ctrl-C): the capture was not read to its end');
  if (s.error !== null) lines.push(`damaged: ${escapeForTerminal(s.error.message)} — the report covers what came before`);
  if (s.files !== undefined) {
    lines.push(`${counted(s.files.length, 'file')} read as one capture, in the order of their first packets`);
    for (const f of s.files) {
      if (f.error === null) continue;
      const message = escapeForTerminal(f.error.message);
      lines.push(f.frames === 0 ? `unreadable, skipped: ${message}` : `damaged: ${message} — the report covers the other files, and this one up to the fault`);
    }
  }
  const malformed = Object.entries(s.malformed);
  if (malformed.length > 0) lines.push(`malformed frames (skipped): ${malformed.map(([k, v]) => `${k} ${v}`).join(', ')}`);
  if (s.capture_copies > 0) lines.push(`${s.capture_copies} TCP segments were second copies of one captured on another interface (-i any on a bridge or router), counted once`);
  if (s.bad_checksum_segments > 0) lines.push(`${s.bad_checksum_segments} TCP segments dropped for a bad checksum (--verify-checksums)`);
  if (s.snaplen_truncated_frames > 0) lines.push(`${s.snaplen_truncated_frames} frames cut by the snaplen (headers analysed, payload partly missing)`);
  const faults = Object.entries(s.capture_faults);
  if (faults.length > 0) lines.push(`capture faults: ${faults.map(([k, v]) => `${k} ${v}`).join(', ')} (docs/json-schema.md, capture_faults)`);
  return lines.join('\n');
}

/** tcpdump's account of a live capture: what it saw, and what the kernel dropped before it could. */
function liveText(l: NonNullable<SummaryRecord['live']>): string {
  const where = `live capture on ${escapeForTerminal(l.interface)}${l.filter ? ` (${escapeForTerminal(l.filter)})` : ''} by tcpdump`;
  if (l.captured === null || l.dropped_by_kernel === null) return `${where}: it printed no counts (it was killed or failed)`;
  const counts = `${counted(l.captured, 'packet')} captured, ${l.dropped_by_kernel} dropped by the kernel`;
  if (l.dropped_by_kernel === 0) return `${where}: ${counts}`;
  return `${where}: ${counts} — the kernel dropped packets before tcpdump read them, so connections may look incomplete (capture loss, not the network's)`;
}

/** What one direction's sender went through, for the packet-by-packet view. */
function statsText(d: DirectionStats): string {
  return (
    `${d.retrans_segs} retransmitted (${formatBytes(d.retrans_bytes)}), ${d.out_of_order_segs} out of order, ${d.zero_window_segs} zero-window, ` +
    `${d.window_full_segs} window-full; ${formatBytes(d.missed_bytes)} acknowledged but not captured`
  );
}

export function renderPacketTrace(rows: PacketRow[], r: ConnectionRecord): string {
  const o = endpointText(r.orig.addr, r.orig.port);
  const p = endpointText(r.resp.addr, r.resp.port);
  const lines = [`connection ${r.id}: ${o} → ${p}  ${r.conn_state} ${escapeForTerminal(r.history)}  (sequence numbers relative to each side's ISN)`];
  if (r.stats !== null) lines.push(`segments sent by orig: ${statsText(r.stats.orig)}`, `segments sent by resp: ${statsText(r.stats.resp)}`);
  const t0 = rows[0]?.ts ?? 0;
  for (const row of rows) {
    const dir = row.fromOrig ? 'orig → resp' : 'orig ← resp';
    const rel = `+${(row.ts - t0).toFixed(6)}`;
    if (row.icmp !== null) {
      lines.push(`${pad(String(row.frame), 9)}${pad(rel, 14)}${pad(dir, 13)}${row.icmp}`);
      continue;
    }
    const ack = row.relAck === null ? '' : ` ack ${row.relAck}`;
    const opts = row.options ? ` <${row.options}>` : '';
    const win = row.windowShift > 0 ? `${row.window * 2 ** row.windowShift} (${row.window}×${2 ** row.windowShift})` : String(row.window);
    lines.push(`${pad(String(row.frame), 9)}${pad(rel, 14)}${pad(dir, 13)}${pad(`[${row.flags}]`, 8)}seq ${row.relSeq}${ack} len ${row.len} win ${win} ttl ${row.ttl}${opts}`);
  }
  // What the diagnosis made of these packets, below them.
  for (const f of r.findings) lines.push('', `${f.kind} (tcpsleuth explain ${f.kind})`, ...findingLines(r, f));
  return lines.join('\n');
}

/** Kinds in report order: failures by severity, then observations. */
const KIND_ORDER: readonly string[] = [
  'refused',
  'unreachable',
  'port-reuse',
  'middlebox-reset',
  'reset',
  'keepalive-timeout',
  'retransmission-timeout',
  'mtu-black-hole',
  'connect-timeout',
  'handshake-incomplete',
  'accept-overflow',
  'half-close-stall',
  'zero-window',
  ...FINDING_KINDS,
];

function kindRank(k: string): number {
  const i = KIND_ORDER.indexOf(k);
  return i < 0 ? KIND_ORDER.length : i;
}

function callText(c: CallOutcome): string {
  if (c.errno === null) return `${c.call}()${c.note ? `: ${c.note}` : ''}`;
  const msg = errnoMessage(c.errno);
  return `${c.call}() → ${c.errno}${msg ? ` "${msg}"` : ''}${c.note ? ` (${c.note})` : ''}`;
}

function findingLines(r: ConnectionRecord, f: Finding): string[] {
  const o = endpointText(r.orig.addr, r.orig.port);
  const p = endpointText(r.resp.addr, r.resp.port);
  const by = f.by === 'network' ? 'the network' : `the ${sideName(r, f.by)}`;
  const state = f.state ? ` in ${f.state}` : '';
  const reason = f.reason === 'UNKNOWN' && f.candidates && f.candidates.length > 0 ? `UNKNOWN (${f.candidates.join(' or ')})` : f.reason;
  const lines = [`  #${r.id}  ${o} → ${p}  ${r.conn_state} ${escapeForTerminal(r.history)}  — ${reason === 'NONE' ? '' : `${reason}, `}by ${by}${state}, confidence ${f.confidence}`];
  lines.push(`      ${escapeForTerminal(f.summary)}`);
  const when = f.time !== undefined ? ` (${formatTime(f.time)})` : '';
  if (f.frames.length > 0) lines.push(`      evidence: frame${f.frames.length === 1 ? '' : 's'} ${f.frames.join(', ')}${when}`);
  if (f.rst_text) lines.push(`      the RST carries text: "${escapeForTerminal(f.rst_text)}"`);
  for (const side of ['orig', 'resp'] as const) {
    const calls = f.calls?.[side] ?? [];
    const errno = f.errno[side];
    const text = calls.length > 0 ? calls.map(callText).join('; ') : errno !== null ? `${errno}${errnoMessage(errno) ? ` "${errnoMessage(errno)}"` : ''}` : 'nothing';
    lines.push(`      ${sideName(r, side)} sees: ${text}`);
  }
  lines.push(`      advice: ${escapeForTerminal(f.advice)}`);
  return lines;
}

/** One failure finding under its kind, as the report shows its examples (analyze --follow prints these as connections end). */
export function renderFailureBlock(r: ConnectionRecord, f: Finding): string {
  return [`${f.kind} (tcpsleuth explain ${f.kind})`, ...findingLines(r, f)].join('\n');
}

/** Responders named in a kind's spread line. */
const RESPONDERS_SHOWN = 5;

/** "NO_SOCKET 3380, UNKNOWN 3": a tally, largest first. */
function tally(m: Map<string, number>, prefix = ''): string {
  return [...m.entries()]
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
    .map(([k, n]) => `${prefix}${k} ${n}`)
    .join(', ');
}

/** A responder's count: exact, or the range Space-Saving guarantees once counters were taken over. */
function hitText(h: HitCount): string {
  return h.error === 0 ? String(h.count) : `${h.count - h.error}–${h.count}`;
}

/**
 * Where a failure kind's findings point, above its examples: the kernel reasons, who acted, and
 * the responders most of them occurred on. Thousands of refusals that all hit one port are one
 * problem, not thousands; these two lines say which.
 */
function spreadLines(g: FindingGroup): string[] {
  const spread = g.spread;
  if (spread === null) return [];
  // NONE is the reason of a finding without an RST (timeouts, stalls): no kernel reason to tally.
  const reasons = new Map([...spread.reasons].filter(([k]) => k !== 'NONE'));
  const lines = [`  ${reasons.size > 0 ? `reasons: ${tally(reasons)}; ` : ''}by ${tally(spread.actors, 'the ')}`];
  const responders = spread.responders;
  const distinct = responders.distinct;
  if (distinct === 1) {
    lines.push(`  all at ${responders.top(1)[0]!.key}`);
  } else {
    const top = responders.top(RESPONDERS_SHOWN).map((h) => `${h.key} (${hitText(h)})`);
    const more = distinct === null || distinct > RESPONDERS_SHOWN ? ', …' : '';
    lines.push(`  at ${distinct === null ? `more than ${RESPONDER_COUNTERS}` : distinct} responders, most at ${top.join(', ')}${more}`);
  }
  return lines;
}

/**
 * Findings first: failures grouped by kind (each with its summary, evidence, errno per side and
 * advice: the strongest the digest kept — or, without `examples`, only their tallies), then
 * observations in one line per kind, then a count of the healthy connections.
 */
export function renderFindings(d: ReportDigest, examples = true): string {
  const groups = d.groups;
  const kinds = [...groups.keys()].sort((a, b) => kindRank(a) - kindRank(b));
  const lines: string[] = [];
  const failures = kinds.filter((k) => FAILURE_KINDS.has(k));
  const observations = kinds.filter((k) => !FAILURE_KINDS.has(k));
  if (failures.length > 0) {
    lines.push(`FAILURES: ${d.failedConnections} of ${counted(d.total, 'connection')}`);
    for (const k of failures) {
      const g = groups.get(k)!;
      lines.push('', `${k} — ${g.count} finding${g.count === 1 ? '' : 's'} (tcpsleuth explain ${k})`);
      if (g.count > 1) lines.push(...spreadLines(g));
      if (!examples) continue;
      const shown = g.shown.items;
      for (const [r, f] of shown) lines.push(...findingLines(r, f));
      if (shown.length < g.count) lines.push(`  … ${g.count - shown.length} more (--limit 0 shows all, --json gives every field)`);
    }
  }
  if (observations.length > 0) {
    if (lines.length > 0) lines.push('');
    lines.push('OTHER OBSERVATIONS');
    for (const k of observations) {
      const g = groups.get(k)!;
      const shown = g.shown.items;
      const ids = shown.map(([r]) => `#${r.id}`).join(', ');
      lines.push(`  ${k}: ${g.count} connection${g.count === 1 ? '' : 's'} (${ids}${g.count > OBSERVATION_IDS ? ', …' : ''}) — e.g. ${escapeForTerminal(shown[0]![1].summary)}`);
    }
  }
  if (lines.length > 0) lines.push('');
  const states = [...d.healthy.entries()].sort((a, b) => INTEREST[a[0]] - INTEREST[b[0]]).map(([k, v]) => `${k} ${v}`).join(', ');
  lines.push(`HEALTHY: ${d.healthyCount} connection${d.healthyCount === 1 ? '' : 's'} without findings${states ? ` (${states})` : ''}`);
  return lines.join('\n');
}
