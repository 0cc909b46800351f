/**
 * `tcpsleuth chat join` as a real process (plain mode: stdin and stdout are pipes): talking
 * through the real server, and saying in tcpsleuth's words how a connection ended — servers
 * here are scripted sockets that end each connection one exact way (FIN, RST, nothing
 * listening, SYNs dropped on a veth).
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, type Server, type Socket } from 'node:net';
import { after, afterEach, describe, it } from 'node:test';
import { connectVeth, NetNamespace } from '../src/lab/netns.js';
import { CHAT_CLI, LineLog, RawClient, startServer, within, type ServerProcess } from './helpers/chat-util.js';

interface JoinProcess {
  child: ChildProcess;
  out: LineLog;
  err: LineLog;
  exited: Promise<number | null>;
}

const procs: ChildProcess[] = [];
const cleanups: Array<() => Promise<void> | void> = [];

afterEach(async () => {
  for (const p of procs.splice(0)) {
    if (p.exitCode === null && p.signalCode === null) {
      p.kill('SIGKILL');
      await within(new Promise((r) => p.once('exit', r)), 5000, 'process did not exit');
    }
  }
  for (const c of cleanups.splice(0).reverse()) await c();
});
after(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function join(args: string[], spawnIn?: NetNamespace): JoinProcess {
  const argv = [...CHAT_CLI, 'join', ...args];
  const child = spawnIn !== undefined ? spawnIn.spawn(process.execPath, argv, { stdio: ['pipe', 'pipe', 'pipe'] }) : spawn(process.execPath, argv, { stdio: ['pipe', 'pipe', 'pipe'] });
  procs.push(child);
  child.stdin!.on('error', () => undefined);
  return {
    child,
    out: LineLog.ofStream(child.stdout!),
    err: LineLog.ofStream(child.stderr!),
    exited: new Promise((r) => child.once('exit', (code) => r(code))),
  };
}

/** A scripted server: `onConnection` decides how each connection ends. */
async function fakeServer(onConnection: (s: Socket, n: number) => void): Promise<{ server: Server; port: number }> {
  let n = 0;
  const server = createServer((s) => {
    s.on('error', () => undefined);
    onConnection(s, ++n);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  cleanups.push(() => new Promise<void>((r) => server.close(() => r())));
  const a = server.address();
  return { server, port: typeof a === 'object' && a !== null ? a.port : 0 };
}

describe('chat join', () => {
  let srv: ServerProcess | null = null;
  afterEach(async () => {
    await srv?.kill();
    srv = null;
  });

  it('sends stdin lines, prints what others say with a timestamp and no escape sequences, and quits at end of input', async () => {
    srv = await startServer();
    const bob = await RawClient.join(srv.port, 'bob');
    cleanups.push(() => bob.destroy());
    const j = join([`127.0.0.1:${srv.port}`, '--nick', 'jo']);
    await j.out.wait((l) => l.endsWith('*** you are now known as jo'), 5000, 'nick confirmed');
    j.child.stdin!.write('hello from join\n');
    await bob.wait((l) => l === '<jo> hello from join', 'the line at bob');
    bob.send('hi \x1b[31mjo\x1b]0;t\x07!');
    const line = await j.out.wait((l) => l.includes('<bob>'), 5000, 'bob at join');
    assert.match(line, /^\d\d:\d\d:\d\d <bob> hi jo!$/);
    j.child.stdin!.end();
    assert.equal(await within(j.exited, 5000, 'join exits at end of input'), 0);
    await bob.wait((l) => l === '*** jo left (quit)', 'jo quit');
  });

  it('says "closed cleanly (FIN)" when the server closes, then reconnects with backoff', async () => {
    const { port } = await fakeServer((s, n) => s.end(`*** hello ${n}\n`));
    const j = join([`127.0.0.1:${port}`]);
    await j.err.wait((l) => l.includes(`127.0.0.1:${port} closed cleanly (FIN)`) && l.includes('trying again in'), 5000, 'FIN explained');
    await j.out.wait((l) => l.endsWith('*** hello 2'), 5000, 'the second connection');
  });

  it('says "connection reset by peer (ECONNRESET)" when the server resets', async () => {
    // Reset only once the client has spoken, so the connect has certainly completed: an RST
    // racing the handshake is reported as a failed connect instead (also correct, not this test).
    // And reset without sending data first: libuv reports an RST that lands right behind data
    // as end of stream (its POLLHUP short-circuit after a partial read), a known limit that
    // docs/chat.md describes.
    const { port } = await fakeServer((s) => {
      s.once('data', () => s.resetAndDestroy());
    });
    const j = join([`127.0.0.1:${port}`, '--no-reconnect', '--nick', 'x']);
    await j.err.wait((l) => l.includes(`lost 127.0.0.1:${port}: connection reset by peer (ECONNRESET)`), 5000, 'RST explained');
    assert.equal(await within(j.exited, 5000, 'exit'), 2);
  });

  it('says "connection refused" when nothing listens, and exits 2 with --no-reconnect', async () => {
    const { server, port } = await fakeServer(() => undefined);
    await new Promise<void>((r) => server.close(() => r()));
    const j = join([`127.0.0.1:${port}`, '--no-reconnect']);
    await j.err.wait((l) => l.includes(`could not connect to 127.0.0.1:${port}: connection refused (ECONNREFUSED)`), 5000, 'refusal explained');
    assert.equal(await within(j.exited, 5000, 'exit'), 2);
  });

  it('gives up when input has ended and the server cannot be reached, naming the lines not delivered', async () => {
    const { server, port } = await fakeServer(() => undefined);
    await new Promise<void>((r) => server.close(() => r()));
    const j = join([`127.0.0.1:${port}`]);
    j.child.stdin!.end('hello\nsecond line\n');
    await j.err.wait((l) => l === 'tcpsleuth chat: input has ended and the server cannot be reached: 2 lines not delivered', 5000, 'lines not delivered');
    assert.equal(await within(j.exited, 5000, 'exit'), 2);
    // Nothing queued: end of input simply quits, connected or not.
    const quiet = join([`127.0.0.1:${port}`]);
    quiet.child.stdin!.end();
    assert.equal(await within(quiet.exited, 5000, 'exit'), 0);
  });

  it('says "timed out" when SYNs go unanswered (dropped on a veth)', async () => {
    const a = await NetNamespace.create('tsl-t');
    cleanups.push(() => a.destroy());
    const b = await NetNamespace.create('tsl-t');
    cleanups.push(() => b.destroy());
    await connectVeth(a, b, { addressA: '10.201.0.1/24', addressB: '10.201.0.2/24' });
    // A neighbour entry for an address nobody has: SYNs leave on the veth and are dropped by the
    // other end (wrong MAC), exactly like a host that went away or a firewall that drops.
    await a.run('ip', ['neigh', 'add', '10.201.0.77', 'lladdr', '02:00:00:00:00:77', 'dev', 'veth0', 'nud', 'permanent']);
    const j = join(['10.201.0.77:5555', '--no-reconnect', '--connect-timeout', '1'], a);
    await j.err.wait((l) => l.includes('could not connect to 10.201.0.77:5555: connection timed out'), 8000, 'timeout explained');
    assert.equal(await within(j.exited, 5000, 'exit'), 2);
  });

  it('never lets escape sequences from a hostile server reach its output', async () => {
    const { port } = await fakeServer((s) => s.end('<evil> \x1b[2J\x1b]0;owned\x07\u009b31mclean\x1b[0m\r\n\x07\x1bc*** done\n'));
    const j = join([`127.0.0.1:${port}`, '--no-reconnect']);
    await within(j.exited, 5000, 'exit');
    const printed = j.out.lines.join('\n');
    assert.match(printed, /<evil> clean/);
    assert.match(printed, /\*\*\* done/);
    assert.doesNotMatch(printed, /[\x00-\x09\x0b-\x1f\x7f-\x9f]/);
  });
});
