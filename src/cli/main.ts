#!/usr/bin/env node
/**
 * The tcpsleuth command: picks the subcommand and turns typed errors into one sentence and an
 * exit status. Each subcommand lives in its own module and only wires library calls together.
 */
import { TsleuthError } from '../errors.js';
import { EXIT } from './exit-codes.js';
import { guardOutput } from './output.js';

interface CommandModule {
  usage: string;
  run: (argv: string[]) => Promise<number>;
}

interface Command {
  summary: string;
  /** Loaded when asked for, so `analyze` does not pay for netlink, the lab's addon or the chat server. */
  load: () => Promise<CommandModule>;
}

const COMMANDS: Record<string, Command> = {
  analyze: {
    summary: 'every TCP connection in a pcap/pcapng capture, Zeek-style (conn_state, history)',
    load: async () => import('./analyze-command.js').then((m) => ({ usage: m.ANALYZE_USAGE, run: m.runAnalyze })),
  },
  explain: {
    summary: 'the knowledge behind a finding: an errno, a kernel reset reason or a finding kind',
    load: async () => import('./explain-command.js').then((m) => ({ usage: m.EXPLAIN_USAGE, run: m.runExplain })),
  },
  trace: {
    summary: 'live kernel events: RSTs with their reasons, drops, errors, retransmissions',
    load: async () => import('./trace-command.js').then((m) => ({ usage: m.TRACE_USAGE, run: m.runTrace })),
  },
  sockets: {
    summary: 'the live TCP socket table over netlink, with owning processes',
    load: async () => import('./sockets-command.js').then((m) => ({ usage: m.SOCKETS_USAGE, run: m.runSockets })),
  },
  leaks: {
    summary: 'processes leaking sockets: CLOSE_WAIT piles, orphaned socket fds, fd limits',
    load: async () => import('./leaks-command.js').then((m) => ({ usage: m.LEAKS_USAGE, run: m.runLeaks })),
  },
  chat: {
    summary: 'the LAN chat tool: chat serve, chat join',
    load: async () => import('./chat-command.js').then((m) => ({ usage: m.CHAT_USAGE, run: m.runChat })),
  },
  lab: {
    summary: 'reproduce classic TCP failures in throw-away namespaces: wire, kernel and errno side by side',
    load: async () => import('./lab-command.js').then((m) => ({ usage: m.LAB_USAGE, run: m.runLab })),
  },
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
    const cmd = topic !== undefined && Object.hasOwn(COMMANDS, topic) ? await COMMANDS[topic]!.load() : undefined;
    process.stdout.write(`${cmd?.usage ?? usage()}\n`);
    return name === undefined ? EXIT.UNREADABLE : EXIT.OK;
  }
  const cmd = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
  if (cmd === undefined) throw new TsleuthError('TSL_ERR_USAGE', `unknown command ${JSON.stringify(name)} (try tcpsleuth --help)`);
  return (await cmd.load()).run(rest);
}

guardOutput(process.stdout);
// Node opens its inspector on 127.0.0.1:9229 on SIGUSR1 (a `killall -USR1 node` would do): any
// local user could then run code in a tcpsleuth that runs as root. A listener of our own keeps
// the signal from reaching it.
process.on('SIGUSR1', () => undefined);
let settled = false;
// A command whose work waits on something that can no longer happen (a callback that never
// comes) would let the process end with status 0 and say nothing: never report that as success.
process.on('exit', () => {
  if (settled || process.exitCode !== undefined) return;
  process.stderr.write('tcpsleuth: internal error: the command stopped before it finished (a wait that could never end)\n');
  process.exitCode = EXIT.INTERNAL;
});
main(process.argv.slice(2)).then(
  (code) => {
    settled = true;
    process.exitCode = code;
    if (code === EXIT.INTERRUPTED) {
      // Everything is reported. End as the shell expects of a program that caught Ctrl-C: killed
      // by SIGINT (status 130). An exit would wait for a read of a quiet pipe that Ctrl-C
      // abandoned: libuv joins its thread pool on the way out.
      process.removeAllListeners('SIGINT');
      process.kill(process.pid, 'SIGINT');
    }
  },
  (e: unknown) => {
    settled = true;
    if (e instanceof TsleuthError) {
      process.stderr.write(`tcpsleuth: ${e.describe()}\n`);
    } else if (e instanceof Error && typeof (e as NodeJS.ErrnoException).code === 'string' && (e as NodeJS.ErrnoException).code!.startsWith('ERR_PARSE_ARGS')) {
      process.stderr.write(`tcpsleuth: ${e.message}\n`);
    } else {
      process.stderr.write(`tcpsleuth: internal error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
      process.exitCode = EXIT.INTERNAL;
      return;
    }
    process.exitCode = EXIT.UNREADABLE;
  },
);
