/**
 * `tcpsleuth lab`: list, run and clean up the lab's scenarios (src/lab/).
 */
import { writeSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { TsleuthError } from '../errors.js';
import { labClean } from '../lab/cleanup.js';
import { loadNative } from '../lab/native.js';
import { renderRun, renderTable } from '../lab/render.js';
import { checkOutDir } from '../lab/out-dir.js';
import { requireLabPrivileges } from '../lab/privileges.js';
import { onInterrupt, runScenario, type LabRun } from '../lab/runner.js';
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
  clean         remove the namespaces, tracing instances and temporary recording directories
                left by a lab run that was killed, and tracing instances of a tcpsleuth trace
                that was killed; names what it removed and what it could not

options (run only):
  --out DIR     keep the recordings (capture.pcap, capture-any.pcap, events.jsonl,
                outcomes.jsonl, analysis.jsonl, truth.json); with --all one directory per scenario
  --json        print truth.json instead of text (one JSON object per line with --all)

exit status: 0 every scenario reproduced as expected (clean: everything left over was removed),
1 some scenario did not (clean: something could not be removed), 2 usage error or missing
privileges, 129/130/131/143 interrupted by SIGHUP/SIGINT/SIGQUIT/SIGTERM (the run in progress
is stopped and removed; what had completed is reported)`;

function usage(message: string): TsleuthError {
  return new TsleuthError('TSL_ERR_USAGE', message);
}

/** `list` and `clean` take no argument and no option. */
function noArguments(sub: string, rest: string[], values: { all: boolean; out?: string; json: boolean }): void {
  if (rest.length > 0) throw usage(`lab ${sub} takes no arguments (got ${JSON.stringify(rest[0])})`);
  const given = [values.all ? '--all' : null, values.out !== undefined ? '--out' : null, values.json ? '--json' : null].filter((x) => x !== null);
  if (given.length > 0) throw usage(`lab ${sub} takes no options (${given.join(', ')} ${given.length === 1 ? 'belongs' : 'belong'} to lab run)`);
}

function writeNow(fd: 1 | 2, text: string): void {
  try {
    writeSync(fd, text);
  } catch {
    // the terminal is gone (SIGHUP) or the reader left: nothing to tell
  }
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
  if (values.help) {
    process.stdout.write(`${LAB_USAGE}\n`);
    return EXIT.OK;
  }
  if (sub === undefined) {
    process.stderr.write(`${LAB_USAGE}\n`);
    return EXIT.UNREADABLE;
  }
  const out = new LineWriter();
  switch (sub) {
    case 'list': {
      noArguments(sub, rest, values);
      const w = Math.max(...SCENARIOS.map((s) => s.name.length)) + 2;
      for (const s of SCENARIOS) await out.line(`${s.name.padEnd(w)}${s.title}`);
      await out.flush();
      return EXIT.OK;
    }
    case 'clean': {
      noArguments(sub, rest, values);
      requireLabPrivileges('lab clean');
      const r = await labClean();
      const named = (names: string[]): string => (names.length > 0 ? `: ${names.map(escapeForTerminal).join(' ')}` : '');
      await out.line(`removed ${r.namespaces.length} namespace(s)${named(r.namespaces)}`);
      await out.line(`removed ${r.instances.length} tracing instance(s)${named(r.instances)}`);
      await out.line(`removed ${r.directories.length} temporary recording director${r.directories.length === 1 ? 'y' : 'ies'}${named(r.directories)}`);
      if (r.busy.length > 0) await out.line(`left alone (their lab run is still running): ${r.busy.map(escapeForTerminal).join(' ')}`);
      await out.flush();
      for (const f of r.failed) process.stderr.write(`tcpsleuth: lab clean: could not remove ${f.what} ${escapeForTerminal(f.name)}: ${escapeForTerminal(f.reason)}\n`);
      return r.failed.length > 0 ? EXIT.FINDINGS : EXIT.OK;
    }
    case 'run': {
      if (values.all && rest.length > 0) throw usage('lab run takes a scenario name or --all, not both');
      if (!values.all && rest.length !== 1) throw usage('lab run needs one scenario name (see "tcpsleuth lab list"), or --all');
      const chosen = values.all ? [...SCENARIOS] : [findScenario(rest[0]!)];
      if (chosen[0] === undefined) throw usage(`no scenario named ${JSON.stringify(rest[0])} (see "tcpsleuth lab list")`);
      const outDir = values.out === undefined ? undefined : checkOutDir(values.out);
      requireLabPrivileges('lab run');
      loadNative(); // one clear sentence now rather than a failing socket program later
      const runs: LabRun[] = [];
      let current = '';
      onInterrupt((signal) => {
        const done = runs.map((r) => r.scenario.name);
        const what = values.all ? `; completed ${done.length} of ${chosen.length}${done.length > 0 ? `: ${done.join(' ')}` : ''}` : '';
        if (values.all && !values.json && runs.length > 0) writeNow(1, `${renderTable(runs)}\n`);
        writeNow(2, `tcpsleuth: lab run interrupted by ${signal} during ${current}${what}; the run in progress was stopped and its namespace, programs and tracing instance removed\n`);
      });
      for (const s of chosen) {
        current = s!.name;
        const dir = outDir === undefined ? undefined : values.all ? join(outDir, s!.name) : outDir;
        if (values.all && !values.json) process.stderr.write(`lab: ${s!.name} …\n`);
        const run = await runScenario(s!, dir === undefined ? {} : { outDir: dir });
        runs.push(run);
        if (values.json) await out.line(jsonLine(run.truth));
        else if (!values.all) await out.line(renderRun(run));
        // Each result is out before the next run starts: an interruption keeps what completed.
        await out.flush();
      }
      onInterrupt(null);
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
