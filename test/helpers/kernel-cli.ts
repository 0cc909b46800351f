#!/usr/bin/env node
/**
 * A stand-in entry point for the kernel commands (trace, sockets, leaks) with the same error
 * handling as src/cli/main.ts, so the tests run the real command modules as a separate process
 * whether or not main.ts has wired them yet:  node dist/test/helpers/kernel-cli.js trace --json
 */
import { fileURLToPath } from 'node:url';
import { runLeaks } from '../../src/cli/leaks-command.js';
import { runSockets } from '../../src/cli/sockets-command.js';
import { runTrace } from '../../src/cli/trace-command.js';
import { TsleuthError } from '../../src/errors.js';

/** The compiled file of this module, to spawn. */
export const KERNEL_CLI = fileURLToPath(import.meta.url);

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'trace':
      return runTrace(rest);
    case 'sockets':
      return runSockets(rest);
    case 'leaks':
      return runLeaks(rest);
    default:
      throw new TsleuthError('TSL_ERR_USAGE', `unknown command ${JSON.stringify(command)}`);
  }
}

if (process.argv[1] === KERNEL_CLI) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (e: unknown) => {
      if (e instanceof TsleuthError) process.stderr.write(`tcpsleuth: ${e.describe()}\n`);
      else process.stderr.write(`tcpsleuth: internal error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
      process.exitCode = e instanceof TsleuthError ? 2 : 70;
    },
  );
}
