/**
 * Runs the real tcpsleuth CLI (`analyze --json`) as a separate process and parses its JSON Lines
 * output, checking the shape of the stream as it goes: connection records, then exactly one
 * summary as the last line.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createReadStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import type { ConnectionRecord, SummaryRecord } from '../../src/analyze/records.js';
import { withTimeout } from './timeout.js';

/** The compiled CLI: dist/test/helpers/cli.js → dist/src/cli/main.js. */
export const CLI_MAIN = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));

const CLI_TIMEOUT_MS = 20_000;

// The CLI's JSON lines are the library's records (docs/json-schema.md).
export type { ConnectionRecord, SummaryRecord } from '../../src/analyze/records.js';

export interface AnalyzeReport {
  connections: ConnectionRecord[];
  summary: SummaryRecord;
}

/** `tcpsleuth analyze --json FILE`. */
export function analyzeFile(file: string): Promise<AnalyzeReport> {
  return runAnalyze(file, null);
}

/** `tcpsleuth analyze --json -` with `file` piped into stdin. */
export function analyzeStdin(file: string): Promise<AnalyzeReport> {
  return runAnalyze('-', file);
}

async function runAnalyze(arg: string, stdinFile: string | null): Promise<AnalyzeReport> {
  const child = spawn(process.execPath, [CLI_MAIN, 'analyze', '--json', arg], {
    stdio: [stdinFile === null ? 'ignore' : 'pipe', 'pipe', 'pipe'],
  });
  const stdout: Buffer[] = [];
  const stderr: Buffer[] = [];
  child.stdout?.on('data', (chunk: Buffer) => stdout.push(chunk));
  child.stderr?.on('data', (chunk: Buffer) => stderr.push(chunk));
  const exited = once(child, 'close') as Promise<[number | null, NodeJS.Signals | null]>;
  // A CLI that exits early breaks the pipe; its exit status is what gets reported then.
  const fed = stdinFile !== null && child.stdin !== null ? pipeline(createReadStream(stdinFile), child.stdin).catch(() => undefined) : null;
  let code: number | null;
  let signal: NodeJS.Signals | null;
  try {
    [code, signal] = await withTimeout(exited, CLI_TIMEOUT_MS, `tcpsleuth analyze --json ${arg} did not finish`);
  } finally {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
  await fed;
  const err = Buffer.concat(stderr).toString('utf8');
  if (code !== 0) throw new Error(`tcpsleuth analyze --json ${arg} exited with ${code ?? signal}:\n${err}`);
  return parseReport(Buffer.concat(stdout).toString('utf8'));
}

/** Parses the JSON Lines stream, rejecting anything the contract does not allow. */
export function parseReport(text: string): AnalyzeReport {
  const lines = text.split('\n').filter((line) => line !== '');
  const connections: ConnectionRecord[] = [];
  let summary: SummaryRecord | undefined;
  lines.forEach((line, index) => {
    let record: { type?: unknown };
    try {
      record = JSON.parse(line) as { type?: unknown };
    } catch {
      throw new Error(`output line ${index + 1} is not JSON: ${line}`);
    }
    if (summary !== undefined) throw new Error(`output line ${index + 1} follows the summary: ${line}`);
    if (record.type === 'connection') connections.push(record as ConnectionRecord);
    else if (record.type === 'summary') summary = record as SummaryRecord;
    else throw new Error(`output line ${index + 1} has an unknown type: ${line}`);
  });
  if (summary === undefined) throw new Error(`no summary line in the output:\n${text}`);
  return { connections, summary };
}
