/**
 * LAN discovery between two network namespaces joined by a veth pair: a server announces itself
 * in one, `chat join` without a host finds it from the other and talks to it.
 */
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { after, afterEach, before, describe, it } from 'node:test';
import { connectVeth, NetNamespace } from '../src/lab/netns.js';
import { attachServer, CHAT_CLI, LineLog, within, type ServerProcess } from './helpers/chat-util.js';

describe('chat discovery across two namespaces', () => {
  let a: NetNamespace;
  let b: NetNamespace;
  const procs: ChildProcess[] = [];
  const servers: ServerProcess[] = [];

  before(async () => {
    a = await NetNamespace.create('tsl-t');
    b = await NetNamespace.create('tsl-t');
    await connectVeth(a, b, { addressA: '10.201.0.1/24', addressB: '10.201.0.2/24' });
  });
  afterEach(async () => {
    for (const s of servers.splice(0)) await s.kill();
    for (const p of procs.splice(0)) {
      if (p.exitCode === null && p.signalCode === null) {
        p.kill('SIGKILL');
        await within(new Promise((r) => p.once('exit', r)), 5000, 'process did not exit');
      }
    }
  });
  after(async () => {
    await a?.destroy();
    await b?.destroy();
  });

  async function serveIn(ns: NetNamespace, args: string[]): Promise<ServerProcess> {
    const s = await attachServer(ns.spawn(process.execPath, [...CHAT_CLI, 'serve', ...args], { stdio: ['pipe', 'pipe', 'pipe'] }));
    servers.push(s);
    return s;
  }

  function run(ns: NetNamespace, command: string, args: string[]): { child: ChildProcess; out: LineLog; err: LineLog; exited: Promise<number | null> } {
    const child = ns.spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    procs.push(child);
    child.stdin!.on('error', () => undefined);
    return { child, out: LineLog.ofStream(child.stdout!), err: LineLog.ofStream(child.stderr!), exited: new Promise((r) => child.once('exit', (code) => r(code))) };
  }

  it('finds the only server on the LAN (defaults: TCP and UDP port 5555) and chats through it', async () => {
    const s = await serveIn(a, ['--name', 'lab-a']);
    await s.log.wait((l) => l.includes('announcing on UDP port 5555'), 5000, 'announcing');
    const j = run(b, process.execPath, [...CHAT_CLI, 'join', '--nick', 'bee']);
    await j.err.wait((l) => l === 'tcpsleuth chat: found lab-a at 10.201.0.1:5555 (0 here)', 5000, 'discovered');
    await j.err.wait((l) => l === 'tcpsleuth chat: connected to 10.201.0.1:5555', 5000, 'connected');
    await j.out.wait((l) => l.endsWith('*** you are now known as bee'), 5000, 'named');
    const nc = run(a, 'ncat', ['127.0.0.1', '5555']);
    nc.child.stdin!.write('/nick anne\nhello bee\n');
    await j.out.wait((l) => l.endsWith('<anne> hello bee'), 5000, 'anne heard in the other namespace');
    j.child.stdin!.write('hello anne\n');
    await nc.out.wait((l) => l === '<bee> hello anne', 5000, 'bee heard back');
    await s.log.wait((l) => l.includes('10.201.0.2:') && l.includes('connected as'), 1000, 'the server saw bee come over the veth');
  });

  it('hears nothing from a server started with --no-announce', async () => {
    const s = await serveIn(a, ['--name', 'quiet', '--no-announce', '--port', '5556']);
    assert.ok(!s.log.lines.some((l) => l.includes('announcing')));
    const j = run(b, process.execPath, [...CHAT_CLI, 'join', '--discover-time', '2500']);
    await j.err.wait((l) => l.includes('no chat server announced itself within 2.5 s'), 6000, 'nothing found');
    assert.equal(await within(j.exited, 5000, 'exit'), 2);
  });

  it('lists several servers and asks for one when it cannot ask (no terminal)', async () => {
    await serveIn(a, ['--name', 'one', '--port', '6001', '--discovery-port', '6000']);
    await serveIn(a, ['--name', 'two', '--port', '6002', '--discovery-port', '6000']);
    const j = run(b, process.execPath, [...CHAT_CLI, 'join', '--discovery-port', '6000']);
    assert.equal(await within(j.exited, 8000, 'exit'), 2);
    assert.ok(j.err.lines.includes('tcpsleuth chat: found 2 chat servers; pick one with tcpsleuth chat join HOST:PORT:'), j.err.lines.join('\n'));
    assert.ok(j.err.lines.includes('tcpsleuth chat:   one at 10.201.0.1:6001 (0 here)'), j.err.lines.join('\n'));
    assert.ok(j.err.lines.includes('tcpsleuth chat:   two at 10.201.0.1:6002 (0 here)'), j.err.lines.join('\n'));
  });
});
