/**
 * The commands the benchmark times: tcpsleuth's own CLI and the two peers it is compared with.
 * Each one reads the whole capture and summarises every TCP connection, which is the work
 * tcpsleuth's analyzer does too.
 */
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface Tool {
  name: string;
  command: string;
  args: (file: string) => string[];
  /** Why the tool cannot run here, or null if it can. */
  missing: string | null;
}

/** Built next to this file: dist/bench/run.js and dist/src/cli/main.js. */
const CLI = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));

export function benchTools(): Tool[] {
  const tshark = onPath('tshark');
  const tcptrace = onPath('tcptrace');
  return [
    {
      name: 'tcpsleuth',
      command: process.execPath,
      args: (file) => [CLI, 'analyze', '--json', file],
      missing: canAccess(CLI, constants.R_OK) ? null : `${CLI} not found: the CLI has not been built`,
    },
    {
      // The same analysis without the diagnosis layer: what diagnosing costs, measured in the same run.
      name: 'tcpsleuth --no-diagnose',
      command: process.execPath,
      args: (file) => [CLI, 'analyze', '--json', '--no-diagnose', file],
      missing: canAccess(CLI, constants.R_OK) ? null : `${CLI} not found: the CLI has not been built`,
    },
    {
      name: 'tshark',
      command: tshark ?? 'tshark',
      args: (file) => ['-r', file, '-q', '-z', 'conv,tcp'],
      missing: tshark === null ? 'not installed (Debian package tshark)' : null,
    },
    {
      name: 'tcptrace',
      command: tcptrace ?? 'tcptrace',
      args: (file) => ['-n', file],
      missing: tcptrace === null ? 'not installed (Debian package tcptrace)' : null,
    },
  ];
}

function onPath(name: string): string | null {
  for (const dir of (process.env['PATH'] ?? '').split(delimiter)) {
    if (dir === '') continue;
    const candidate = join(dir, name);
    if (canAccess(candidate, constants.X_OK)) return candidate;
  }
  return null;
}

function canAccess(path: string, mode: number): boolean {
  try {
    accessSync(path, mode);
    return true;
  } catch {
    return false;
  }
}
