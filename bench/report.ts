/**
 * Turns the measurements into the tables `npm run bench` prints: one row per tool and capture,
 * then tcpsleuth's figures against its targets. It reports and never asserts: a missed target
 * is printed as such and the run still succeeds.
 */
import type { CaptureStats } from './generate.js';
import type { Measurement } from './measure.js';

export interface CaptureFile {
  label: string;
  path: string;
  stats: CaptureStats;
  generateSeconds: number;
}

export interface Run {
  tool: string;
  file: CaptureFile;
  /** The fastest run (or the failed one). */
  m: Measurement;
  /** Every run, one per round, in order. */
  rounds: Measurement[];
}

const TARGET_PACKETS_PER_SECOND = 2e6;
const TARGET_VS_TSHARK = 10;
const TARGET_VS_TCPTRACE = 2;
const TARGET_PEAK_RSS_BYTES = 300e6;
/** "Unchanged at 5×": within 10 %, room for the garbage collector's timing. */
const TARGET_RSS_GROWTH = 1.1;
/** Diagnosis may cost at most this much over plain analyze (issue 5). */
const TARGET_DIAGNOSIS_COST = 0.25;

const MB = 1e6;

export function describeCapture(f: CaptureFile): string {
  const s = f.stats;
  const mix = Object.entries(s.outcomes)
    .map(([outcome, n]) => `${outcome} ${n}`)
    .join(', ');
  return [
    `${f.label}: ${int(s.packets)} packets, ${(s.bytes / MB).toFixed(1)} MB, ${int(s.connections)} connections, ` +
      `written in ${f.generateSeconds.toFixed(1)} s (${f.path})`,
    `    per copy: ${s.copySeconds.toFixed(0)} s of traffic, up to ${int(s.peakOpen)} connections open at once, ` +
      `longest connection ${s.longestConnectionSeconds.toFixed(1)} s`,
    `    outcomes: ${mix}`,
  ].join('\n');
}

export function resultTable(runs: readonly Run[]): string {
  const header = ['tool', 'file', 'packets', 'MB', 'seconds', 'packets/s', 'MB/s', 'peak RSS MB'];
  const rows = runs.map((r) => {
    const { packets, bytes } = r.file.stats;
    const head = [r.tool, r.file.label, int(packets), (bytes / MB).toFixed(1)];
    if (r.m.exitCode !== 0) return [...head, `FAILED (exit status ${r.m.exitCode})`, '', '', ''];
    return [
      ...head,
      r.m.seconds.toFixed(2),
      int(packets / r.m.seconds),
      (bytes / MB / r.m.seconds).toFixed(1),
      (r.m.peakRssBytes / MB).toFixed(1),
    ];
  });
  return table(header, rows, 2);
}

/** tcpsleuth's figures beside its targets; a speed ratio is the peer's seconds over tcpsleuth's. */
export function targetTable(runs: readonly Run[], files: readonly CaptureFile[]): string {
  const ok = runs.filter((r) => r.m.exitCode === 0);
  const findRun = (tool: string, file: CaptureFile): Run | undefined => ok.find((r) => r.tool === tool && r.file === file);
  const find = (tool: string, file: CaptureFile): Measurement | undefined => findRun(tool, file)?.m;
  const rows: string[][] = [];
  const row = (what: string, figure: string, target: string, met: boolean): void => {
    rows.push([what, figure, target, met ? 'met' : 'MISSED']);
  };
  for (const f of files) {
    const own = find('tcpsleuth', f);
    if (own === undefined) {
      rows.push([`tcpsleuth on ${f.label}`, 'no result', '', '']);
      continue;
    }
    const pps = f.stats.packets / own.seconds;
    row(`packets/s on ${f.label}`, `${(pps / 1e6).toFixed(2)} M`, `>= ${TARGET_PACKETS_PER_SECOND / 1e6} M`, pps >= TARGET_PACKETS_PER_SECOND);
    for (const [peer, target] of [
      ['tshark', TARGET_VS_TSHARK],
      ['tcptrace', TARGET_VS_TCPTRACE],
    ] as const) {
      const other = find(peer, f);
      if (other === undefined) rows.push([`speed vs ${peer} on ${f.label}`, `no ${peer} result`, `>= ${target}x`, '']);
      else row(`speed vs ${peer} on ${f.label}`, `${(other.seconds / own.seconds).toFixed(1)}x`, `>= ${target}x`, other.seconds / own.seconds >= target);
    }
    row(`peak RSS on ${f.label}`, `${(own.peakRssBytes / MB).toFixed(1)} MB`, `< ${TARGET_PEAK_RSS_BYTES / MB} MB`, own.peakRssBytes < TARGET_PEAK_RSS_BYTES);
    const withDiagnosis = findRun('tcpsleuth', f);
    const plain = findRun('tcpsleuth --no-diagnose', f);
    if (withDiagnosis !== undefined && plain !== undefined) {
      const cost = diagnosisCost(withDiagnosis.rounds, plain.rounds);
      const rounds = withDiagnosis.rounds.length;
      row(
        `diagnosis cost on ${f.label}${rounds > 1 ? ` (median of ${rounds} rounds)` : ''}`,
        `+${(cost * 100).toFixed(0)}%`,
        `<= +${TARGET_DIAGNOSIS_COST * 100}%`,
        cost <= TARGET_DIAGNOSIS_COST,
      );
    }
  }
  const [first, ...larger] = files;
  const base = first === undefined ? undefined : find('tcpsleuth', first);
  for (const f of larger) {
    const own = find('tcpsleuth', f);
    if (base === undefined || own === undefined) continue;
    const growth = own.peakRssBytes / base.peakRssBytes;
    row(`peak RSS ${f.label} / ${first!.label}`, growth.toFixed(2), `<= ${TARGET_RSS_GROWTH} (unchanged)`, growth <= TARGET_RSS_GROWTH);
  }
  return table(['tcpsleuth', 'measured', 'target', ''], rows, 1);
}

/**
 * What the diagnosis adds, from runs of the same round (taken one right after the other, so a
 * slow spell of the machine hits both): the median of the per-round ratios.
 */
export function diagnosisCost(withDiagnosis: readonly Measurement[], plain: readonly Measurement[]): number {
  const ratios: number[] = [];
  for (let i = 0; i < withDiagnosis.length && i < plain.length; i++) ratios.push(withDiagnosis[i]!.seconds / plain[i]!.seconds);
  ratios.sort((a, b) => a - b);
  const mid = ratios.length >> 1;
  const median = ratios.length % 2 === 1 ? ratios[mid]! : (ratios[mid - 1]! + ratios[mid]!) / 2;
  return median - 1;
}

function int(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

/** Pads columns; the first `leftColumns` are text, aligned left, the rest numbers, aligned right. */
function table(header: readonly string[], rows: readonly (readonly string[])[], leftColumns: number): string {
  const all = [header, ...rows];
  const widths = header.map((_, c) => Math.max(...all.map((r) => (r[c] ?? '').length)));
  return all
    .map((r) =>
      r
        .map((cell, c) => (c < leftColumns ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!)))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}
