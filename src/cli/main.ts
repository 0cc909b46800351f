#!/usr/bin/env node
/**
 * The tcpsleuth command: picks the subcommand and turns typed errors into one sentence and an
 * exit status. Each subcommand lives in its own module and only wires library calls together.
 */
import { TsleuthError } from '../errors.js';
import { ANALYZE_USAGE, runAnalyze } from './analyze-command.js';
import { CHAT_USAGE, runChat } from './chat-command.js';
import { EXIT } from './exit-codes.js';
import { EXPLAIN_USAGE, runExplain } from './explain-command.js';
import { LAB_USAGE, runLab } from './lab-command.js';
import { LEAKS_USAGE, runLeaks } from './leaks-command.js';
import { runSockets, SOCKETS_USAGE } from './sockets-command.js';
import { runTrace, TRACE_USAGE } from './trace-command.js';

interface Command {
  summary: string;
  usage: string;
  run: (argv: string[]) => Promise<number>;
}

const COMMANDS: Record<string, Command> = {
  analyze: { summary: 'every TCP connection in a pcap/pcapng capture, Zeek-style (conn_state, history)', usage: ANALYZE_USAGE, run: runAnalyze },
  explain: { summary: 'the knowledge behind a finding: an errno, a kernel reset reason or a finding kind', usage: EXPLAIN_USAGE, run: runExplain },
  trace: { summary: 'live kernel events: RSTs with their reasons, drops, errors, retransmissions', usage: TRACE_USAGE, run: runTrace },
  sockets: { summary: 'the live TCP socket table over netlink, with owning processes', usage: SOCKETS_USAGE, run: runSockets },
  leaks: { summary: 'processes leaking sockets: CLOSE_WAIT piles, orphaned socket fds, fd limits', usage: LEAKS_USAGE, run: runLeaks },
  chat: { summary: 'the LAN chat tool: chat serve, chat join', usage: CHAT_USAGE, run: runChat },
  lab: { summary: 'reproduce classic TCP failures in throw-away namespaces: wire, kernel and errno side by side', usage: LAB_USAGE, run: runLab },
};

function usage(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((k) => k.length)) + 3;
  const lines = Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(width)}${c.summary}`);
  return `usage: tcpsleuth <command> [options]\n\ncommands:\n${lines.join('\n')}\n\n"tcpsleuth <command> --help" shows a command's options and exit status.`;
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '-h' || name === '--help' || name === 'help') {
    const topic = name === 'help' ? rest[0] : undefined;
    const cmd = topic === undefined ? undefined : COMMANDS[topic];
    process.stdout.write(`${cmd?.usage ?? usage()}\n`);
    return name === undefined ? EXIT.UNREADABLE : EXIT.OK;
  }
  const cmd = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
  if (cmd === undefined) throw new TsleuthError('TSL_ERR_USAGE', `unknown command ${JSON.stringify(name)} (try tcpsleuth --help)`);
  return cmd.run(rest);
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    if (e instanceof TsleuthError) {
      process.stderr.write(`tcpsleuth: ${e.describe()}\n`);
    } else if (e instanceof Error && typeof (e as NodeJS.ErrnoException).code === 'string' && (e as NodeJS.ErrnoException).code!.startsWith('ERR_PARSE_ARGS')) {
      process.stderr.write(`tcpsleuth: ${e.message}\n`);
    } else {
      process.stderr.write(`tcpsleuth: internal error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
      process.exitCode = 70;
      return;
    }
    process.exitCode = EXIT.UNREADABLE;
  },
);
