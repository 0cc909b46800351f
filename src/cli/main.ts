#!/usr/bin/env node
/**
 * The tcpsleuth command: picks the subcommand and turns typed errors into one sentence and an
 * exit status. Each subcommand lives in its own module and only wires library calls together.
 */
import { TsleuthError } from '../errors.js';
import { ANALYZE_USAGE, runAnalyze } from './analyze-command.js';
import { EXIT } from './exit-codes.js';

const USAGE = `usage: tcpsleuth <command> [options]

commands:
  analyze <capture>   every TCP connection in a pcap/pcapng capture, Zeek-style (conn_state, history)

tcpsleuth <command> --help shows the options of a command.

${ANALYZE_USAGE}`;

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'analyze':
      return runAnalyze(rest);
    case undefined:
    case '-h':
    case '--help':
    case 'help':
      process.stdout.write(`${USAGE}\n`);
      return command === undefined ? EXIT.UNREADABLE : EXIT.OK;
    default:
      throw new TsleuthError('TSL_ERR_USAGE', `unknown command ${JSON.stringify(command)} (try tcpsleuth --help)`);
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    if (e instanceof TsleuthError) {
      process.stderr.write(`tcpsleuth: ${e.describe()}\n`);
    } else if (e instanceof Error && (e as NodeJS.ErrnoException).code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') {
      process.stderr.write(`tcpsleuth: ${e.message}\n`);
    } else {
      process.stderr.write(`tcpsleuth: internal error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
      process.exitCode = 70;
      return;
    }
    process.exitCode = EXIT.UNREADABLE;
  },
);
