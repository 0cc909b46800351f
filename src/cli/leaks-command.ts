/**
 * `tcpsleuth leaks`: per process, CLOSE_WAIT sockets, unidentifiable socket fds and fd counts
 * against RLIMIT_NOFILE; --watch samples again and shows growth.
 */
import { parseArgs } from 'node:util';
import { findLeaks, isLeaking, type LeakReport } from '../kernel/leaks.js';
import { formatLeakReport } from '../kernel/render.js';
import { checkPidsInThisNetns } from '../kernel/socket-table.js';
import { jsonLine } from '../report/terminal.js';
import { EXIT } from './exit-codes.js';
import { parsePid, usageError } from './flags.js';

export const LEAKS_USAGE = `usage: tcpsleuth leaks [options]

Finds processes that leak sockets: connections in CLOSE_WAIT (the peer closed, the program never
called close()), connections the kernel finished (reset, timed out) that the program still holds,
and fd counts close to RLIMIT_NOFILE; says what each means and what to fix. Socket fds in no
protocol table (lsof's "can't identify protocol") are listed as "unlisted" but not counted as
leaks: a socket never bound or connected looks the same from outside; --watch recognises a
connection that finishes between samples. Covers the network namespace tcpsleuth runs in.
Needs root to see other users' processes.

options:
  --pid N              only this process (repeatable; it must run in this namespace); reported even when clean
  --watch              sample again every --interval seconds and show growth (Ctrl-C stops)
  --interval SECONDS   time between samples with --watch (default 2, at most 2147483)
  --samples N          stop --watch after N samples
  --proc               read /proc/net/tcp{,6} instead of netlink
  --json               JSON Lines: one {"type":"leaks",...} report per sample
  --fail-on-leak       exit 1 when a leak is found (CLOSE_WAIT or finished connections)

exit status: 0 ok, 1 --fail-on-leak and a leak was found, 2 usage error or no access`;

export async function runLeaks(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      pid: { type: 'string', multiple: true },
      watch: { type: 'boolean', default: false },
      interval: { type: 'string' },
      samples: { type: 'string' },
      proc: { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
      'fail-on-leak': { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(`${LEAKS_USAGE}\n`);
    return EXIT.OK;
  }
  if (positionals.length > 0) throw usageError(`leaks takes no arguments (got ${JSON.stringify(positionals[0])})`);
  const pids = values.pid?.map((p) => parsePid(p, '--pid'));
  const interval = values.interval === undefined ? 2 : Number(values.interval);
  if (!Number.isFinite(interval) || interval <= 0) throw usageError('--interval takes a positive number of seconds');
  if (interval * 1000 > 2 ** 31 - 1) throw usageError(`--interval ${values.interval} is too long: at most ${Math.floor((2 ** 31 - 1) / 1000)} seconds`);
  if (pids !== undefined) await checkPidsInThisNetns(pids, 'leaks');
  const samples = values.samples === undefined ? (values.watch ? Infinity : 1) : Number(values.samples);
  if (!(samples === Infinity || (Number.isInteger(samples) && samples > 0))) throw usageError('--samples takes a positive whole number');

  let stopped = false;
  let wake: (() => void) | null = null;
  const onSignal = (): void => {
    stopped = true;
    wake?.();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  let found = false;
  let previous: LeakReport | undefined;
  const seenListed = new Set<number>();
  try {
    for (let i = 0; i < samples && !stopped; i++) {
      if (i > 0) {
        await new Promise<void>((resolve) => {
          wake = resolve;
          setTimeout(resolve, interval * 1000);
        });
        wake = null;
        if (stopped) break;
      }
      const report = await findLeaks({ ...(pids === undefined ? {} : { pids }), source: values.proc ? 'proc' : 'auto', seenListed, ...(previous === undefined ? {} : { previous }) });
      if (i === 0 && report.note !== undefined) process.stderr.write(`tcpsleuth: note: ${report.note}\n`);
      if (report.processes.some(isLeaking)) found = true;
      if (values.json) process.stdout.write(`${jsonLine({ type: 'leaks', sample: i + 1, ...report })}\n`);
      else process.stdout.write(`${samples > 1 ? `--- sample ${i + 1} at ${new Date(report.takenAt * 1000).toISOString()}\n` : ''}${formatLeakReport(report)}\n`);
      previous = report;
    }
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
  return values['fail-on-leak'] && found ? EXIT.FINDINGS : EXIT.OK;
}
