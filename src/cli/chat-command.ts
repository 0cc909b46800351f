/**
 * `tcpsleuth chat serve|join`: flags → ChatServer / Announcer / ChatClient, and a terminal.
 * Everything that is not wiring or drawing lives in src/chat/.
 */
import { once } from 'node:events';
import { createInterface, clearLine, cursorTo, moveCursor, type Interface } from 'node:readline';
import { parseArgs } from 'node:util';
import { ChatClient, type DisconnectInfo } from '../chat/client.js';
import { Announcer, DEFAULT_ANNOUNCE_INTERVAL_MS, DEFAULT_DISCOVER_MS, DEFAULT_DISCOVERY_PORT, discoverServers, type DiscoveredServer } from '../chat/discovery.js';
import { nickProblem, sanitizeText } from '../chat/protocol.js';
import { endpointText } from '../report/terminal.js';
import { clock, colourWanted, renderOwnLine, renderServerLine } from '../chat/render.js';
import { CHAT_DEFAULTS, ChatServer } from '../chat/server.js';
import { TsleuthError } from '../errors.js';
import { EXIT } from './exit-codes.js';
import { parseWholeInRange, usageError } from './flags.js';

export const CHAT_USAGE = `usage: tcpsleuth chat serve [options]
       tcpsleuth chat join [host[:port]] [options]

A LAN chat that plain nc/ncat/telnet can join: one line is one message (docs/chat.md).

chat serve: many clients in one process; lines typed on its standard input go to everyone.
  --port N               TCP port (default ${CHAT_DEFAULTS.port}; 0 = any free port, printed at start)
  --host ADDR            address to listen on (default: all interfaces)
  --name NAME            server name in the welcome and in LAN announcements (default: host name)
  --max-clients N        clients at once; the next one is refused politely (default ${CHAT_DEFAULTS.maxClients})
  --max-line N           longest line in bytes; longer ones are refused (default ${CHAT_DEFAULTS.maxLineBytes})
  --queue-bytes N        output that may wait for one client before it counts as not reading
                         and is disconnected (default ${CHAT_DEFAULTS.maxQueueBytes})
  --flood-limit N        lines per second per client, excess is delayed (default ${CHAT_DEFAULTS.floodLinesPerSecond}; 0 = off)
  --flood-burst N        lines allowed in a burst (default ${CHAT_DEFAULTS.floodBurstLines})
  --idle-timeout S       disconnect a client silent this many seconds (default ${CHAT_DEFAULTS.idleTimeoutMs / 1000}; 0 = never)
  --keepalive S          TCP keepalive idle time in seconds (default ${CHAT_DEFAULTS.keepAliveMs / 1000}; 0 = off)
  --no-announce          do not announce the server on the LAN
  --discovery-port N     UDP port for announcements (default ${DEFAULT_DISCOVERY_PORT})
  --quiet                do not print the conversation on standard output
  The log (who came, who left and how: FIN, RST, EPIPE, timeout) goes to standard error.
  SIGINT/SIGTERM: every client gets a notice and a FIN, then the server exits.

chat join: a terminal client. Without a host it listens for LAN announcements and joins the
only server it hears, or asks which one.
  --nick NAME            nickname to take on each (re)connect
  --port N               port when host has none (default ${CHAT_DEFAULTS.port})
  --no-reconnect         exit when the connection ends instead of reconnecting with backoff
  --connect-timeout S    a connect that takes longer counts as timed out (default 10)
  --discovery-port N     UDP port to listen on for announcements (default ${DEFAULT_DISCOVERY_PORT})
  --discover-time MS     how long to listen for announcements (default ${DEFAULT_DISCOVER_MS})
  Colour per nick unless NO_COLOR is set or output is not a terminal. When standard input is not
  a terminal, lines are read from it and sent, and end of input quits (once input has ended, a
  failed attempt to connect ends the run with exit 2 instead of retrying).

exit status: 0 ok, 2 usage error, the port cannot be bound, no server was found, or the
             connection failed or ended with --no-reconnect`;

export async function runChat(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  switch (sub) {
    case 'serve':
      return runServe(rest);
    case 'join':
      return runJoin(rest);
    case undefined:
    case '-h':
    case '--help':
    case 'help':
      process.stdout.write(`${CHAT_USAGE}\n`);
      return sub === undefined ? EXIT.UNREADABLE : EXIT.OK;
    default:
      throw usageError(`unknown chat command ${JSON.stringify(sub)}: use "chat serve" or "chat join"`);
  }
}

// --- serve ---------------------------------------------------------------------------------

async function runServe(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      port: { type: 'string' },
      host: { type: 'string' },
      name: { type: 'string' },
      'max-clients': { type: 'string' },
      'max-line': { type: 'string' },
      'queue-bytes': { type: 'string' },
      'flood-limit': { type: 'string' },
      'flood-burst': { type: 'string' },
      'idle-timeout': { type: 'string' },
      keepalive: { type: 'string' },
      'no-announce': { type: 'boolean', default: false },
      'discovery-port': { type: 'string' },
      quiet: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(`${CHAT_USAGE}\n`);
    return EXIT.OK;
  }
  if (positionals.length > 0) throw usageError(`chat serve takes no arguments (got ${JSON.stringify(positionals[0])}); use --host and --port`);
  const log = (line: string): void => {
    process.stderr.write(`${clock()} chat: ${line}\n`);
  };
  const idle = parseWholeInRange(values['idle-timeout'], '--idle-timeout', 0);
  const keepalive = parseWholeInRange(values.keepalive, '--keepalive', 0);
  const server = new ChatServer({
    host: values.host,
    port: parseWholeInRange(values.port, '--port', 0, 65535),
    name: values.name,
    maxClients: parseWholeInRange(values['max-clients'], '--max-clients', 1),
    maxLineBytes: parseWholeInRange(values['max-line'], '--max-line', 1),
    maxQueueBytes: parseWholeInRange(values['queue-bytes'], '--queue-bytes', 1),
    floodLinesPerSecond: parseWholeInRange(values['flood-limit'], '--flood-limit', 0),
    floodBurstLines: parseWholeInRange(values['flood-burst'], '--flood-burst', 1),
    idleTimeoutMs: idle === undefined ? undefined : idle * 1000,
    keepAliveMs: keepalive === undefined ? undefined : keepalive * 1000,
    log,
    transcript: values.quiet ? undefined : (line) => process.stdout.write(`${clock()} ${line}\n`),
  });
  const discoveryPort = parseWholeInRange(values['discovery-port'], '--discovery-port', 1, 65535);
  const address = await server.start();
  let announcer: Announcer | null = null;
  if (!values['no-announce']) {
    announcer = new Announcer({
      name: server.name,
      port: address.port,
      // What was actually bound: without --host that is "::" (IPv6 and IPv4) where the host has
      // IPv6, else "0.0.0.0"; a host name is whichever address it resolved to.
      host: address.address,
      discoveryPort,
      intervalMs: DEFAULT_ANNOUNCE_INTERVAL_MS,
      load: () => ({ clients: server.stats().clients, maxClients: server.maxClients }),
      log,
    });
    try {
      await announcer.start();
      log(`announcing on UDP port ${discoveryPort ?? DEFAULT_DISCOVERY_PORT} every ${DEFAULT_ANNOUNCE_INTERVAL_MS / 1000} s (--no-announce to stop)`);
    } catch (e) {
      log(`discovery: cannot announce: ${(e as Error).message}; the server runs without announcements`);
      announcer = null;
    }
  }

  // The console: lines typed here go to everyone; /who and /quit are for the operator.
  const consoleInput = createInterface({ input: process.stdin, terminal: false });
  consoleInput.on('line', (line) => {
    const text = line.trim();
    if (text === '/who') log(`${server.who().length} here: ${server.who().join(', ')}`);
    else if (text === '/quit') void shutdown('console /quit');
    else if (text !== '') server.say(line);
  });
  process.stdin.on('error', () => undefined);

  let done!: () => void;
  const finished = new Promise<void>((r) => (done = r));
  let stopping = false;
  async function shutdown(why: string): Promise<void> {
    if (stopping) return;
    stopping = true;
    log(`${why}: shutting down`);
    announcer?.stop();
    await server.stop();
    consoleInput.close();
    process.stdin.destroy();
    done();
  }
  const onSignal = (sig: NodeJS.Signals): void => {
    if (stopping) {
      // A second signal: the operator does not want to wait for the grace period.
      process.exit(130);
    }
    void shutdown(sig);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  await finished;
  process.off('SIGINT', onSignal);
  process.off('SIGTERM', onSignal);
  return EXIT.OK;
}

// --- join ----------------------------------------------------------------------------------

/** "host", "host:port", "[v6]:port", "[fe80::1%eth0]:port" (as discovery prints it), "v6" → host and port. */
export function parseTarget(target: string, defaultPort: number): { host: string; port: number } {
  const bracket = /^\[([^\]]+)\](?::(\d+))?$/.exec(target);
  if (bracket !== null) return { host: bracket[1]!, port: bracket[2] === undefined ? defaultPort : portOf(bracket[2]) };
  const colons = target.split(':').length - 1;
  if (colons === 1) {
    const [host, port] = target.split(':') as [string, string];
    if (host === '') throw usageError(`${JSON.stringify(target)} has no host`);
    return { host, port: portOf(port) };
  }
  if (target === '') throw usageError('empty host');
  return { host: target, port: defaultPort };
}

function portOf(s: string): number {
  const n = Number(s);
  if (!Number.isInteger(n) || n < 1 || n > 65535) throw usageError(`${JSON.stringify(s)} is not a port number (1-65535)`);
  return n;
}

function describeServer(s: DiscoveredServer): string {
  return `${s.name} at ${endpointText(s.address, s.port)} (${s.clients} here)`;
}

async function runJoin(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      nick: { type: 'string' },
      port: { type: 'string' },
      'no-reconnect': { type: 'boolean', default: false },
      'connect-timeout': { type: 'string' },
      'discovery-port': { type: 'string' },
      'discover-time': { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(`${CHAT_USAGE}\n`);
    return EXIT.OK;
  }
  if (positionals.length > 1) throw usageError('chat join takes at most one host[:port]');
  if (values.nick !== undefined) {
    const problem = nickProblem(values.nick);
    if (problem !== null) throw usageError(`--nick: ${problem}`);
  }
  const interactive = process.stdin.isTTY === true && process.stdout.isTTY === true;
  const status = (line: string): void => {
    process.stderr.write(`tcpsleuth chat: ${line}\n`);
  };
  const defaultPort = parseWholeInRange(values.port, '--port', 1, 65535) ?? CHAT_DEFAULTS.port;

  let target: { host: string; port: number };
  if (positionals.length === 1) {
    target = parseTarget(positionals[0]!, defaultPort);
  } else {
    const discoveryPort = parseWholeInRange(values['discovery-port'], '--discovery-port', 1, 65535) ?? DEFAULT_DISCOVERY_PORT;
    const timeoutMs = parseWholeInRange(values['discover-time'], '--discover-time', 1, 60_000) ?? DEFAULT_DISCOVER_MS;
    status(`listening ${timeoutMs / 1000} s for chat servers announcing on UDP port ${discoveryPort} ...`);
    let servers: DiscoveredServer[];
    try {
      servers = await discoverServers({ discoveryPort, timeoutMs });
    } catch (e) {
      throw new TsleuthError('TSL_ERR_ENV', `cannot listen for announcements on UDP port ${discoveryPort}: ${(e as Error).message}`);
    }
    if (servers.length === 0) {
      status(`no chat server announced itself within ${timeoutMs / 1000} s; give a host: tcpsleuth chat join HOST[:PORT]`);
      return EXIT.UNREADABLE;
    }
    if (servers.length === 1) {
      target = { host: servers[0]!.address, port: servers[0]!.port };
      status(`found ${describeServer(servers[0]!)}`);
    } else if (!interactive) {
      status(`found ${servers.length} chat servers; pick one with tcpsleuth chat join HOST:PORT:`);
      for (const s of servers) status(`  ${describeServer(s)}`);
      return EXIT.UNREADABLE;
    } else {
      servers.forEach((s, i) => process.stdout.write(`  ${i + 1}) ${describeServer(s)}\n`));
      const ask = createInterface({ input: process.stdin, output: process.stdout });
      const answer = await new Promise<string>((r) => ask.question(`join which one (1-${servers.length})? `, r));
      ask.close();
      const pick = Number(answer.trim());
      if (!Number.isInteger(pick) || pick < 1 || pick > servers.length) throw usageError(`no server number ${JSON.stringify(answer.trim())}`);
      target = { host: servers[pick - 1]!.address, port: servers[pick - 1]!.port };
    }
  }

  const connectTimeout = parseWholeInRange(values['connect-timeout'], '--connect-timeout', 1, 600);
  const client = new ChatClient({
    host: target.host,
    port: target.port,
    nick: values.nick,
    reconnect: !values['no-reconnect'],
    connectTimeoutMs: connectTimeout === undefined ? undefined : connectTimeout * 1000,
  });
  return interactive ? joinInteractive(client, status) : joinPlain(client, status);
}

function statusText(info: DisconnectInfo): string {
  const again = info.retryInMs === null ? '' : `; trying again in ${(info.retryInMs / 1000).toFixed(1)} s`;
  return `${info.words}${again}`;
}

/** Scriptable mode: stdin lines are sent, server lines go to stdout, status to stderr. */
async function joinPlain(client: ChatClient, status: (line: string) => void): Promise<number> {
  const colour = colourWanted(process.stdout);
  let failed = false;
  let inputEnded = false;
  const pending: string[] = [];
  const MAX_PENDING = 10_000;
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') client.close();
  });
  client.on('line', (line: string) => process.stdout.write(`${renderServerLine(line, { colour })}\n`));
  client.on('connected', ({ host, port }: { host: string; port: number }) => {
    status(`connected to ${endpointText(host, port)}`);
    while (pending.length > 0) client.send(pending.shift()!);
    if (inputEnded) void client.quit();
  });
  client.on('disconnected', (info: DisconnectInfo) => {
    status(statusText(info));
    if (info.retryInMs === null) failed = true;
    else if (inputEnded) {
      // Nothing more will be typed: one more failed attempt ends it rather than retrying forever.
      status(`input has ended and the server cannot be reached: ${pending.length} line${pending.length === 1 ? '' : 's'} not delivered`);
      failed = true;
      client.close();
    }
  });
  const closed = once(client, 'closed');
  const input = createInterface({ input: process.stdin, terminal: false });
  input.on('line', (line) => {
    if (line === '') return;
    if (/^\/quit\b/i.test(line)) {
      void client.quit(line.replace(/^\/quit\s*/i, ''));
      return;
    }
    if (!client.send(line)) {
      if (pending.length < MAX_PENDING) pending.push(line);
      else status('not connected and 10000 lines are waiting; this line was dropped');
    }
  });
  input.on('close', () => {
    inputEnded = true;
    // Lines typed while disconnected wait for the next connection, which sends them and quits.
    if (client.isConnected || pending.length === 0) void client.quit();
  });
  client.start();
  await closed;
  input.close();
  process.stdin.destroy();
  return failed ? EXIT.UNREADABLE : EXIT.OK;
}

/** A readline prompt that incoming lines do not garble: each one is printed above the prompt, which is then redrawn with what was typed so far. */
async function joinInteractive(client: ChatClient, status: (line: string) => void): Promise<number> {
  const out = process.stdout;
  const colour = colourWanted(out);
  let failed = false;
  const rl: Interface = createInterface({ input: process.stdin, output: out, prompt: '> ' });
  const print = (line: string): void => {
    clearLine(out, 0);
    cursorTo(out, 0);
    out.write(`${line}\n`);
    rl.prompt(true);
  };
  const note = (text: string): void => print(`${clock()} ${colour ? `\x1b[2m-!- ${text}\x1b[0m` : `-!- ${text}`}`);
  client.on('line', (line: string) => print(renderServerLine(line, { colour })));
  client.on('connecting', (attempt: number) => {
    if (attempt === 1) note(`connecting to ${endpointText(client.host, client.port)} ...`);
  });
  client.on('connected', ({ host, port }: { host: string; port: number }) => note(`connected to ${endpointText(host, port)}`));
  client.on('nick', (nick: string) => rl.setPrompt(`${nick}> `));
  client.on('disconnected', (info: DisconnectInfo) => {
    note(statusText(info));
    if (info.retryInMs === null) failed = true;
  });
  const closed = once(client, 'closed');
  rl.on('line', (typed) => {
    const text = sanitizeText(typed);
    // Replace the echoed input line with the message as the others will see it.
    moveCursor(out, 0, -1);
    clearLine(out, 0);
    if (text === '') return rl.prompt();
    if (/^\/quit\b/i.test(text)) {
      void client.quit(text.replace(/^\/quit\s*/i, ''));
      return;
    }
    if (!client.send(text)) {
      note('not connected; that line was not sent');
      return;
    }
    const own = renderOwnLine(text, client.nick ?? 'me', { colour });
    if (own !== null) print(own);
    else rl.prompt();
  });
  rl.on('SIGINT', () => void client.quit());
  rl.on('close', () => void client.quit());
  rl.prompt();
  client.start();
  await closed;
  rl.close();
  status('bye');
  return failed ? EXIT.UNREADABLE : EXIT.OK;
}
