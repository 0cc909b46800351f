/**
 * The traffic generator: a standalone program that runs INSIDE a test's network namespace and
 * produces one scenario's TCP connection with real sockets on loopback:
 *
 *   ip netns exec NS node dist/test/helpers/traffic-generator.js SCENARIO PORT
 *
 * PORT is the responder's (server's) port, so the test can find the connection in a capture.
 * When every packet of the scenario is on the wire, the generator prints one ScenarioDone line
 * (JSON) and then keeps running, sockets as they are, until its stdin ends. The test ends stdin
 * only after it stopped the capture, so nothing the process does while exiting (the kernel
 * closing a still-open socket, say) can reach the file.
 *
 * Any deviation from the scenario (a connect that succeeds where it must be refused, a FIN where
 * an RST was expected, ...) makes it exit 1 without printing the line, which fails the test.
 */
import dgram from 'node:dgram';
import { once } from 'node:events';
import { readFile } from 'node:fs/promises';
import net from 'node:net';
import { type Endpoint, REPLY_TEXT, REQUEST_TEXT, type Scenario, type ScenarioDone, isScenario } from './scenarios.js';
import { withTimeout } from './timeout.js';

const REQUEST = Buffer.from(REQUEST_TEXT);
const REPLY = Buffer.from(REPLY_TEXT);
const FENCE = Buffer.from('tcpsleuth capture fence\n');

/**
 * A connect that fails leaves no local address to read back, so the refused scenario's client
 * binds this port itself. The namespace is private, and the port is below the kernel's
 * ephemeral range, so no other socket of the test can hold it.
 */
const REFUSED_CLIENT_PORT = 20_100;

/** Upper bound for one scenario; on loopback each takes a few milliseconds. */
const SCENARIO_TIMEOUT_MS = 5_000;
/** How often to look at the kernel's socket table while waiting for a TCP state. */
const STATE_POLL_INTERVAL_MS = 5;

/** /proc/net/tcp state code of a socket whose FIN has been acknowledged. */
const TCP_FIN_WAIT2 = '05';

async function listen(server: net.Server, host: string, port: number): Promise<void> {
  server.listen({ host, port, exclusive: true });
  await once(server, 'listening');
}

async function closeServer(server: net.Server): Promise<void> {
  await new Promise<void>((resolve, reject) => server.close((err) => (err ? reject(err) : resolve())));
}

function localEndpoint(socket: net.Socket): Endpoint {
  if (socket.localAddress === undefined || socket.localPort === undefined) {
    throw new Error('connected socket has no local address');
  }
  return { addr: socket.localAddress, port: socket.localPort };
}

/** Client sends REQUEST, server answers REPLY, client ends, server ends in turn. */
async function normalExchange(host: string, port: number): Promise<Endpoint> {
  // allowHalfOpen: the server closes its side itself, after it has seen the client's FIN.
  const server = net.createServer({ allowHalfOpen: true });
  const serverSideClosed = new Promise<void>((resolve, reject) => {
    server.once('connection', (conn: net.Socket) => {
      conn.once('data', () => conn.write(REPLY));
      conn.once('end', () => conn.end());
      conn.once('error', reject);
      conn.once('close', () => resolve());
    });
  });
  await listen(server, host, port);

  const client = net.connect({ host, port });
  const clientClosed = new Promise<Endpoint>((resolve, reject) => {
    let local: Endpoint | undefined;
    client.once('connect', () => {
      local = localEndpoint(client);
      client.write(REQUEST);
    });
    // The reply is one small segment: once it is here, the client has nothing more to do.
    client.once('data', () => client.end());
    client.once('error', reject);
    client.once('close', () => (local ? resolve(local) : reject(new Error('client closed before connecting'))));
  });
  // The client's 'close' comes after the server's FIN; the kernel ACKs that FIN before the
  // client can read the end of stream, so every packet is on the wire once both sides closed.
  const [local] = await Promise.all([clientClosed, serverSideClosed]);
  await closeServer(server);
  return local;
}

/** SYN to a port with no listener: the kernel answers RST, connect fails with ECONNREFUSED. */
async function refused(host: string, port: number): Promise<Endpoint> {
  const client = net.connect({ host, port, localAddress: host, localPort: REFUSED_CLIENT_PORT });
  await new Promise<void>((resolve, reject) => {
    client.once('connect', () => reject(new Error(`connect to ${host}:${port} succeeded, expected ECONNREFUSED`)));
    client.once('error', (err: NodeJS.ErrnoException) => (err.code === 'ECONNREFUSED' ? resolve() : reject(err)));
  });
  return { addr: host, port: REFUSED_CLIENT_PORT };
}

/** Client sends REQUEST; the server aborts (SO_LINGER 0 + close, i.e. RST) instead of answering. */
async function responderReset(host: string, port: number): Promise<Endpoint> {
  const server = net.createServer();
  const serverSideClosed = new Promise<void>((resolve, reject) => {
    server.once('connection', (conn: net.Socket) => {
      conn.once('data', () => conn.resetAndDestroy());
      conn.once('error', reject);
      conn.once('close', () => resolve());
    });
  });
  await listen(server, host, port);

  const client = net.connect({ host, port });
  const clientReset = new Promise<Endpoint>((resolve, reject) => {
    let local: Endpoint | undefined;
    client.once('connect', () => {
      local = localEndpoint(client);
      client.write(REQUEST);
    });
    client.once('end', () => reject(new Error('the responder closed with FIN, expected RST')));
    client.once('error', (err: NodeJS.ErrnoException) => {
      if (err.code !== 'ECONNRESET') reject(err);
      else if (local === undefined) reject(new Error('reset before connecting'));
      else resolve(local);
    });
  });
  const [local] = await Promise.all([clientReset, serverSideClosed]);
  await closeServer(server);
  return local;
}

/** The client aborts (RST) as soon as the handshake completed; it never sends data. */
async function originatorReset(host: string, port: number): Promise<Endpoint> {
  const server = net.createServer((conn: net.Socket) => {
    // The accepted socket only ever sees the client's RST; that error is the scenario, not a fault.
    conn.on('error', () => undefined);
  });
  await listen(server, host, port);

  const client = net.connect({ host, port });
  const local = await new Promise<Endpoint>((resolve, reject) => {
    let connected: Endpoint | undefined;
    client.once('connect', () => {
      connected = localEndpoint(client);
      // The RST leaves in the close() system call itself, before 'close' is emitted.
      client.resetAndDestroy();
    });
    client.once('error', reject);
    client.once('close', () => (connected ? resolve(connected) : reject(new Error('client closed before connecting'))));
  });
  await closeServer(server);
  return local;
}

/**
 * The client ends its side; the server (half-open allowed) never closes nor sends. Done once the
 * server has read the FIN and the kernel has acknowledged it: the ACK of a FIN may be delayed,
 * and the client's socket turns FIN_WAIT2 exactly when that ACK arrives.
 */
async function originatorFinOnly(host: string, port: number): Promise<Endpoint> {
  const server = net.createServer({ allowHalfOpen: true });
  const serverSawFin = new Promise<void>((resolve, reject) => {
    server.once('connection', (conn: net.Socket) => {
      conn.once('end', () => resolve());
      conn.once('error', reject);
      conn.resume();
    });
  });
  await listen(server, host, port);

  const client = net.connect({ host, port });
  const local = await new Promise<Endpoint>((resolve, reject) => {
    client.once('connect', () => {
      client.end();
      resolve(localEndpoint(client));
    });
    client.once('error', reject);
  });
  client.on('error', (err) => fail(err));
  await serverSawFin;
  await waitForTcpState(local.port, port, TCP_FIN_WAIT2);
  // Stop listening, but the accepted connection and the client stay open until the process
  // exits (close()'s callback would wait for that connection, so it is not awaited).
  server.close();
  return local;
}

/** Polls /proc/net/tcp (this namespace's table) until the IPv4 socket localPort→remotePort has `state`. */
async function waitForTcpState(localPort: number, remotePort: number, state: string): Promise<void> {
  for (;;) {
    const table = await readFile('/proc/net/tcp', 'utf8');
    for (const row of table.split('\n').slice(1)) {
      // "  0: 0100007F:9C45 0100007F:B2A4 05 ..." (addresses and ports in hex)
      const [, local, remote, st] = row.trim().split(/\s+/);
      if (local === undefined || remote === undefined) continue;
      if (hexPort(local) === localPort && hexPort(remote) === remotePort && st === state) return;
    }
    await new Promise((resolve) => setTimeout(resolve, STATE_POLL_INTERVAL_MS));
  }
}

function hexPort(addrPort: string): number {
  return Number.parseInt(addrPort.slice(addrPort.lastIndexOf(':') + 1), 16);
}

/** One UDP datagram to a bound receiver (bound, so no ICMP port-unreachable follows it). */
async function udpFence(host: string, port: number): Promise<Endpoint> {
  const receiver = dgram.createSocket('udp4');
  receiver.bind(port, host);
  await once(receiver, 'listening');
  const sender = dgram.createSocket('udp4');
  const received = once(receiver, 'message');
  sender.send(FENCE, port, host);
  await received;
  const { address, port: senderPort } = sender.address();
  sender.close();
  receiver.close();
  return { addr: address, port: senderPort };
}

function runScenario(scenario: Scenario, port: number): Promise<Endpoint> {
  switch (scenario) {
    case 'normal-exchange':
      return normalExchange('127.0.0.1', port);
    case 'normal-exchange-ipv6':
      return normalExchange('::1', port);
    case 'refused':
      return refused('127.0.0.1', port);
    case 'responder-reset':
      return responderReset('127.0.0.1', port);
    case 'originator-reset':
      return originatorReset('127.0.0.1', port);
    case 'originator-fin-only':
      return originatorFinOnly('127.0.0.1', port);
    case 'udp-fence':
      return udpFence('127.0.0.1', port);
  }
}

function fail(err: unknown): never {
  process.stderr.write(`traffic-generator: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
}

async function main(): Promise<void> {
  const [scenarioArg, portArg] = process.argv.slice(2);
  if (scenarioArg === undefined && process.env['NODE_TEST_CONTEXT'] !== undefined) {
    // `node --test dist/test/` runs every .js under a test/ directory, this helper included;
    // there it has nothing to do.
    return;
  }
  const port = Number(portArg);
  if (scenarioArg === undefined || !isScenario(scenarioArg) || !Number.isInteger(port) || port < 1 || port > 65535) {
    process.stderr.write('usage: traffic-generator.js SCENARIO PORT\n');
    process.exit(2);
  }
  const client = await withTimeout(runScenario(scenarioArg, port), SCENARIO_TIMEOUT_MS, `scenario ${scenarioArg}`);
  const done: ScenarioDone = { done: scenarioArg, client };
  process.stdout.write(`${JSON.stringify(done)}\n`);
  process.stdin.resume();
  await once(process.stdin, 'end');
  process.exit(0);
}

main().catch(fail);
