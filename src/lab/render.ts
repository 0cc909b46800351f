/**
 * Text for a terminal: a run's story, its timeline, analyze's conclusion and the verdict; and
 * the table of `lab run --all`. Everything that came from the kernel, a capture or a program
 * goes through escapeForTerminal.
 */
import { ReportDigest } from '../report/digest.js';
import { renderConnectionTable } from '../report/text.js';
import { escapeForTerminal as esc, endpointText } from '../report/terminal.js';
import type { LabRun } from './runner.js';
import type { Truth } from './truth.js';

function wrap(text: string, width: number, indent = '  '): string {
  const out: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/)) {
    if (line !== '' && line.length + 1 + word.length > width) {
      out.push(indent + line);
      line = word;
    } else line = line === '' ? word : `${line} ${word}`;
  }
  if (line !== '') out.push(indent + line);
  return out.join('\n');
}

function cell(s: string | null, w: number): string {
  const t = esc(s ?? '');
  if (t.length > w) return `${t.slice(0, w - 1)}…`;
  return t + ' '.repeat(w - t.length);
}

export function renderTimeline(run: LabRun, width = 150): string {
  const rows = run.timeline;
  if (rows.length === 0) return '  (nothing happened)';
  const t0 = rows[0]!.ts;
  const tw = 10;
  const rest = Math.max(90, width - tw - 6);
  const wcol = Math.floor(rest * 0.27);
  const kcol = Math.floor(rest * 0.38);
  const lines = [`${cell('time', tw)}  ${cell('wire (capture.pcap)', wcol)}  ${cell('kernel (tracefs)', kcol)}  application (errno)`];
  lines.push(`${'-'.repeat(tw)}  ${'-'.repeat(wcol)}  ${'-'.repeat(kcol)}  ${'-'.repeat(rest - wcol - kcol)}`);
  for (const r of rows) {
    const t = `+${((r.ts - t0) * 1000).toFixed(1)}ms`;
    lines.push(`${cell(t, tw)}  ${cell(r.wire, wcol)}  ${cell(r.kernel, kcol)}  ${esc(r.app ?? '')}`.trimEnd());
  }
  return lines.join('\n');
}

export function kernelResetText(t: Truth): string {
  const rs = t.connections.flatMap((c) => c.resets.map((r) => `${r.role}:${r.kernel === null ? 'not-the-stack' : (r.kernel.reason ?? '?')}`));
  return rs.length === 0 ? '-' : [...new Set(rs)].join(' ');
}

export function errnoText(t: Truth): string {
  const es = [...t.connections.flatMap((c) => c.calls), ...t.unattached_calls].filter((c) => c.errno !== null).map((c) => `${c.call}:${c.errno}`);
  return es.length === 0 ? '-' : [...new Set(es)].join(' ');
}

export function diagnosisText(t: Truth): string {
  const d = t.diagnosis;
  const compared = d.agree + d.ambiguous + d.disagree + d.undiagnosed;
  const off = d.not_on_wire > 0 ? `${d.not_on_wire} RST not on the wire, not compared` : '';
  const also = off === '' ? '' : `; ${off}`;
  switch (d.status) {
    case 'no-rst':
      return off === '' ? 'n/a (no RST)' : `n/a (${off})`;
    case 'agrees':
      return `agrees (${d.agree}${also})`;
    case 'agrees-or-ambiguous':
      return d.agree === 0
        ? `ambiguous (${d.ambiguous} of ${compared}, kernel's reason among the candidates${also})`
        : `agrees (${d.agree} of ${compared}) + ambiguous (${d.ambiguous}, kernel's reason among the candidates${also})`;
    case 'disagrees':
      return `disagrees (0 of ${compared} agree${d.undiagnosed > 0 ? `, ${d.undiagnosed} without a finding` : ''}${also})`;
    case 'partial':
      return `partly (${d.agree} of ${compared} agree${d.ambiguous > 0 ? `, ${d.ambiguous} ambiguous` : ''}${also})`;
  }
}

export function renderRun(run: LabRun): string {
  const s = run.scenario;
  const t = run.truth;
  const out: string[] = [];
  out.push(`== ${s.name}: ${s.title}`);
  out.push(wrap(s.story, 100));
  out.push('');
  out.push(`server ${endpointText(run.addresses.server, run.port)}, clients from ${run.addresses.client}, namespace ${run.namespace}, kernel ${esc(t.kernel)}`);
  const sys = Object.entries(s.sysctls ?? {});
  if (sys.length > 0) out.push(`sysctls (this namespace only): ${sys.map(([k, v]) => `${k}=${v}`).join(' ')}`);
  for (const r of t.nft) out.push(`nft (this namespace only): ${esc(r.replace(/\s+/g, ' ').trim())}`);
  out.push('');
  out.push(renderTimeline(run));
  out.push('');
  out.push('-- what the kernel says, per connection (truth.json)');
  for (const c of t.connections) {
    const head = `${c.id === null ? '(not on the wire)' : `#${c.id}`} ${endpointText(c.orig.addr, c.orig.port)} → ${endpointText(c.resp.addr, c.resp.port)}${c.conn_state !== null ? `  ${c.conn_state} ${esc(c.history ?? '')}` : ''}`;
    out.push(head);
    for (const r of c.resets) {
      out.push(`   RST by ${r.by} (${r.role}): ${r.kernel === null ? 'no tcp_send_reset — not sent by the TCP stack (firewall or forged)' : `${r.kernel.reason} in ${r.kernel.state ?? 'no socket'}`}${r.wire === null ? ', never on the wire (dropped before the capture point)' : `, frame ${r.wire.frame}`}`);
    }
    const errs = c.calls.filter((x) => x.errno !== null);
    for (const e of errs) out.push(`   ${e.side} (${esc(e.role)}) ${e.call}() → ${e.errno}`);
    const drops = [...new Set(c.drops.map((d) => d.reason ?? '?'))];
    if (drops.length > 0) out.push(`   drops: ${drops.join(', ')}`);
  }
  if (t.untupled_events.length > 0) out.push(`   drops without a tuple: ${[...new Set(t.untupled_events.map((u) => u.reason ?? '?'))].join(', ')}`);
  out.push('');
  out.push('-- what tcpsleuth analyze concludes from the capture alone');
  out.push(run.records.length === 0 ? '  (no TCP connection in the capture)' : renderConnectionTable(ReportDigest.of(run.records, 0, 0)));
  const findings = run.records.flatMap((r) => r.findings.map((f) => `#${r.id} ${f.kind}: by ${f.by}, ${f.reason} — ${f.summary}`));
  out.push(findings.length === 0 ? 'findings: none' : findings.map((f) => `finding ${esc(f)}`).join('\n'));
  out.push(`capture-only diagnosis vs kernel: ${diagnosisText(t)}`);
  out.push('');
  out.push(t.verdict.ok ? `verdict: reproduced as expected (${run.durationS.toFixed(1)} s)` : `verdict: NOT as expected:\n${t.verdict.mismatches.map((m) => `  - ${esc(m)}`).join('\n')}`);
  if (run.kept) out.push(`recordings: ${esc(run.dir)} (truth.json, capture.pcap, capture-any.pcap, events.jsonl, outcomes.jsonl, analysis.jsonl)`);
  return out.join('\n');
}

export function renderTable(runs: LabRun[]): string {
  const head = ['scenario', 'kernel RST reasons', 'errnos', 'as expected', 'capture-only diagnosis', 'time'];
  const rows = runs.map((r) => [r.scenario.name, kernelResetText(r.truth), errnoText(r.truth), r.truth.verdict.ok ? 'yes' : 'NO', diagnosisText(r.truth), `${r.durationS.toFixed(1)}s`]);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cols: string[]): string => cols.map((c, i) => esc(c).padEnd(widths[i]!)).join('  ').trimEnd();
  const out = [line(head), widths.map((w) => '-'.repeat(w)).join('  ')];
  for (const r of rows) out.push(line(r));
  return out.join('\n');
}
