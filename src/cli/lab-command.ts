/**
 * `tcpsleuth lab`: list, run and clean up the lab's scenarios (src/lab/).
 */
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { TsleuthError } from '../errors.js';
import { labClean } from '../lab/cleanup.js';
import { loadNative } from '../lab/native.js';
import { renderRun, renderTable } from '../lab/render.js';
import { runScenario, type LabRun } from '../lab/runner.js';
import { findScenario, SCENARIOS } from '../lab/scenarios/index.js';
import { escapeForTerminal, jsonLine } from '../report/terminal.js';
import { EXIT } from './exit-codes.js';
import { LineWriter } from './output.js';

export const LAB_USAGE = `usage: tcpsleuth lab list
       tcpsleuth lab run NAME [--out DIR] [--json]
       tcpsleuth lab run --all [--out DIR] [--json]
       tcpsleuth lab clean

Reproduces classic TCP failures on real sockets in throw-away network namespaces and records
three views of each: the wire (tcpdump), the kernel (RST and drop reasons, socket errors from
tracefs) and the applications (the errno of every socket call), tied together in truth.json.
Needs root. See docs/lab.md.

  list          the scenarios, with their stories' titles
  run NAME      run one scenario: its story, a timeline of the three views side by side, and
                what tcpsleuth analyze concludes from the capture alone
  run --all     run every scenario; a table of kernel RST reasons, errnos, and whether the
                capture-only diagnosis agrees with the kernel
  clean         remove namespaces and tracing instances left by a lab run that was killed, and
                tracing instances of a tcpsleuth trace that was killed

options:
  --out DIR     keep the recordings (capture.pcap, capture-any.pcap, events.jsonl,
                outcomes.jsonl, analysis.jsonl, truth.json); with --all one directory per scenario
  --json        print truth.json instead of text (one JSON object per line with --all)

exit status: 0 every scenario reproduced as expected, 1 some did not, 2 usage error`;

function usage(message: string): TsleuthError {
  return new TsleuthError('TSL_ERR_USAGE', message);
}

export async function runLab(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      all: { type: 'boolean', default: false },
      out: { type: 'string' },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  const [sub, ...rest] = positionals;
  if (values.help || sub === undefined) {
    process.stdout.write(`${LAB_USAGE}\n`);
    return sub === undefined && !values.help ? EXIT.UNREADABLE : EXIT.OK;
  }
  const out = new LineWriter();
  switch (sub) {
    case 'list': {
      const w = Math.max(...SCENARIOS.map((s) => s.name.length)) + 2;
      for (const s of SCENARIOS) await out.line(`${s.name.padEnd(w)}${s.title}`);
      await out.flush();
      return EXIT.OK;
    }
    case 'clean': {
      const r = await labClean();
      await out.line(`removed ${r.namespaces.length} namespace(s)${r.namespaces.length > 0 ? `: ${r.namespaces.join(' ')}` : ''}`);
      await out.line(`removed ${r.instances.length} tracing instance(s)${r.instances.length > 0 ? `: ${r.instances.join(' ')}` : ''}`);
      if (r.directories.length > 0) await out.line(`removed ${r.directories.length} temporary recording director${r.directories.length === 1 ? 'y' : 'ies'}`);
      if (r.busy.length > 0) await out.line(`left alone (their lab run is still running): ${r.busy.join(' ')}`);
      await out.flush();
      return EXIT.OK;
    }
    case 'run': {
      if (values.all && rest.length > 0) throw usage('lab run takes a scenario name or --all, not both');
      if (!values.all && rest.length !== 1) throw usage('lab run needs one scenario name (see "tcpsleuth lab list"), or --all');
      const chosen = values.all ? [...SCENARIOS] : [findScenario(rest[0]!)];
      if (chosen[0] === undefined) throw usage(`no scenario named ${JSON.stringify(rest[0])} (see "tcpsleuth lab list")`);
      loadNative(); // one clear sentence now rather than a failing socket program later
      const runs: LabRun[] = [];
      for (const s of chosen) {
        const dir = values.out === undefined ? undefined : values.all ? join(values.out, s!.name) : values.out;
        if (values.all && !values.json) process.stderr.write(`lab: ${s!.name} …\n`);
        const run = await runScenario(s!, dir === undefined ? {} : { outDir: dir });
        runs.push(run);
        if (values.json) await out.line(jsonLine(run.truth));
        else if (!values.all) await out.line(renderRun(run));
      }
      if (values.all && !values.json) {
        await out.line(renderTable(runs));
        const total = runs.reduce((t, r) => t + r.durationS, 0);
        await out.line('');
        await out.line(`${runs.filter((r) => r.truth.verdict.ok).length} of ${runs.length} scenarios reproduced as expected in ${total.toFixed(1)} s`);
        for (const r of runs.filter((x) => !x.truth.verdict.ok)) await out.line(`  ${r.scenario.name}: ${escapeForTerminal(r.truth.verdict.mismatches.join('; '))}`);
        if (values.out !== undefined) await out.line(`recordings in ${escapeForTerminal(values.out)}/<scenario>/ — try: tcpsleuth analyze ${escapeForTerminal(join(values.out, 'close-wait-port-reuse', 'capture.pcap'))}`);
      }
      await out.flush();
      return runs.every((r) => r.truth.verdict.ok) ? EXIT.OK : EXIT.FINDINGS;
    }
    default:
      throw usage(`unknown lab command ${JSON.stringify(sub)} (list, run, clean)`);
  }
}
