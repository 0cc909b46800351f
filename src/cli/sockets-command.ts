/**
 * `tcpsleuth sockets`: the live TCP socket table (netlink sock_diag) with owning processes.
 */
import { parseArgs } from 'node:util';
import { formatSocketTable, formatUnreadable } from '../kernel/render.js';
import { checkPidsInThisNetns, readSocketTable } from '../kernel/socket-table.js';
import { parseTcpState, TCP_STATE_NAMES } from '../kernel/tcp-states.js';
import { jsonLine } from '../report/terminal.js';
import { EXIT } from './exit-codes.js';
import { parsePid, parsePort, usageError } from './flags.js';

export const SOCKETS_USAGE = `usage: tcpsleuth sockets [options]

The kernel's TCP sockets (IPv4 and IPv6) over netlink (NETLINK_SOCK_DIAG, with tcp_info: RTT,
retransmissions, unacked and lost segments, time since data was last received and sent, timers),
each with the processes holding it (pid/fd from /proc). Covers the network namespace tcpsleuth
runs in: use "ip netns exec NAME tcpsleuth sockets" for another. Root sees every process's owner.

options:
  --state LIST   only these states, comma-separated (listen, established, close-wait, time-wait, ...)
  --port N       only sockets with this port at either end (repeatable)
  --pid N        only sockets held by this process (repeatable; it must run in this namespace)
  --proc         read /proc/net/tcp{,6} instead of netlink (fewer details)
  --json         JSON Lines: {"type":"socket",...} per socket, then {"type":"summary",...}

exit status: 0 ok, 2 usage error or the socket table cannot be read`;

export function parseStates(list: string): number[] {
  return list
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '')
    .map((s) => {
      const n = parseTcpState(s);
      if (n === null) throw usageError(`--state: ${JSON.stringify(s)} is not a TCP state (${TCP_STATE_NAMES.slice(1).map((n) => n.replace(/^TCP_/, '').toLowerCase().replace(/_/g, '-')).join(', ')})`);
      return n;
    });
}

export async function runSockets(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      state: { type: 'string' },
      port: { type: 'string', multiple: true },
      pid: { type: 'string', multiple: true },
      proc: { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(`${SOCKETS_USAGE}\n`);
    return EXIT.OK;
  }
  if (positionals.length > 0) throw usageError(`sockets takes no arguments (got ${JSON.stringify(positionals[0])})`);
  const ports = values.port?.map((p) => parsePort(p, '--port'));
  const pids = values.pid?.map((p) => parsePid(p, '--pid'));
  if (pids !== undefined) await checkPidsInThisNetns(pids, 'sockets');
  const table = await readSocketTable({
    ...(values.state === undefined ? {} : { states: parseStates(values.state) }),
    ...(ports === undefined ? {} : { ports }),
    ...(pids === undefined ? {} : { pids }),
    source: values.proc ? 'proc' : 'auto',
  });
  if (table.note !== undefined) process.stderr.write(`tcpsleuth: note: ${table.note}\n`);
  if (values.json) {
    const lines = table.sockets.map((s) => jsonLine({ type: 'socket', ...s }));
    lines.push(jsonLine({ type: 'summary', source: table.source, sockets: table.sockets.length, takenAt: table.takenAt, unreadableProcesses: table.scan.unreadable, ...(table.note === undefined ? {} : { note: table.note }) }));
    process.stdout.write(`${lines.join('\n')}\n`);
  } else {
    process.stdout.write(`${table.sockets.length === 0 ? 'no TCP sockets match' : formatSocketTable(table.sockets)}\n`);
    const unreadable = formatUnreadable(table.scan.skipped);
    process.stdout.write(`\n${table.sockets.length === 1 ? '1 socket' : `${table.sockets.length} sockets`} from ${table.source === 'netlink' ? 'netlink sock_diag' : '/proc/net/tcp{,6}'}${unreadable === '' ? '' : ` ${unreadable}`}\n`);
  }
  return EXIT.OK;
}
