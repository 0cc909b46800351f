/**
 * Runs one command and measures its wall-clock time and peak resident set size.
 *
 * Peak RSS comes from GNU time (%M, the kernel's ru_maxrss from wait4), which is exact however
 * short the run; sampling /proc/<pid>/status would miss a peak reached between two samples or
 * just before exit. Wall time is taken here with the monotonic clock, finer than time's %e.
 * The command's stdout goes to /dev/null so that no consumer slows it down.
 */
import { spawn } from 'node:child_process';
import { accessSync, constants, existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';

export const GNU_TIME = '/usr/bin/time';

/** Keep the end of stderr only: enough to say why a command failed. */
const STDERR_TAIL = 4096;

export interface Measurement {
  seconds: number;
  peakRssBytes: number;
  /** Exit status; GNU time turns a command killed by signal N into 128 + N. */
  exitCode: number;
  stderrTail: string;
}

export function haveGnuTime(): boolean {
  try {
    accessSync(GNU_TIME, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** `scratchDir` receives GNU time's report file for the length of the run. */
export function measure(command: string, args: readonly string[], scratchDir: string): Promise<Measurement> {
  const report = join(scratchDir, 'time-report.txt');
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const child = spawn(GNU_TIME, ['-f', '%M', '-o', report, command, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => {
      stderr = (stderr + chunk).slice(-STDERR_TAIL);
    });
    child.on('error', reject);
    child.on('close', (code) => {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      // time writes "Command exited with non-zero status N" (or "...terminated by signal N") before the figure.
      const lines = existsSync(report) ? readFileSync(report, 'utf8').trim().split('\n') : [];
      rmSync(report, { force: true });
      const figure = lines[lines.length - 1] ?? '';
      if (!/^\d+$/.test(figure)) {
        reject(new Error(`GNU time left no usable report (exit status ${code}): ${[...lines, stderr].join(' / ').trim()}`));
        return;
      }
      const stderrTail = [stderr.trim(), ...lines.slice(0, -1)].join('\n').trim();
      // A null code means time itself was killed; count it as a failure too.
      resolve({ seconds, peakRssBytes: Number(figure) * 1024, exitCode: code ?? 128, stderrTail });
    });
  });
}
