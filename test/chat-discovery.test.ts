/**
 * LAN discovery between two network namespaces joined by a veth pair: a server announces itself
 * in one, `chat join` without a host finds it from the other and talks to it, over IPv4 and over
 * an IPv6-only link (link-local addresses only); and, without sockets, how what was heard is
 * listed (one entry per server instance, at its best address).
 */
import assert from 'node:assert/strict';
import { execFile, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { after, afterEach, before, describe, it } from 'node:test';
import { decodeAnnouncement, encodeAnnouncement, HeardServers, type Announcement } from '../src/chat/discovery.js';
import { endpointText } from '../src/report/terminal.js';
import { parseTarget } from '../src/cli/chat-command.js';
import { connectVeth, NetNamespace } from '../src/lab/netns.js';
import { attachServer, CHAT_CLI, LineLog, within, type ServerProcess } from './helpers/chat-util.js';

const execFileP = promisify(execFile);

/** The link-local address of veth0 in `ns` once it is usable (not tentative: DAD is done), within 5 s. */
async function linkLocalOf(ns: NetNamespace): Promise<string> {
  const deadline = Date.now() + 5000;
  for (;;) {
    const { stdout } = await ns.run('ip', ['-6', '-o', 'addr', 'show', 'dev', 'veth0', 'scope', 'link']);
    const m = /inet6 (fe80:[0-9a-f:]+)\/64 scope link(.*)/.exec(stdout);
    if (m !== null && !m[2]!.includes('tentative')) return m[1]!;
    if (Date.now() > deadline) throw new Error(`no usable link-local address on veth0 in ${ns.name} within 5 s: ${stdout}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * Joins two namespaces with a veth pair (veth0 in each) that has no IPv4 address at all: only the
 * IPv6 link-local addresses the kernel gives each end, without duplicate address detection so
 * that they are usable at once. Returns them.
 */
async function connectLinkLocalOnly(a: NetNamespace, b: NetNamespace): Promise<[string, string]> {
  const tmp = `tslv${randomBytes(3).toString('hex')}`;
  await execFileP('ip', ['link', 'add', `${tmp}a`, 'netns', a.name, 'type', 'veth', 'peer', 'name', `${tmp}b`, 'netns', b.name]);
  for (const [ns, end] of [
    [a, `${tmp}a`],
    [b, `${tmp}b`],
  ] as const) {
    await ns.run('ip', ['link', 'set', end, 'name', 'veth0']);
    await ns.sysctl('net.ipv6.conf.veth0.disable_ipv6', 0);
    await ns.sysctl('net.ipv6.conf.veth0.accept_dad', 0);
    await ns.run('ip', ['link', 'set', 'veth0', 'up']);
  }
  const addresses: [string, string] = [await linkLocalOf(a), await linkLocalOf(b)];
  for (const ns of [a, b]) {
    const { stdout } = await ns.run('ip', ['-o', 'addr', 'show', 'dev', 'veth0']);
    assert.ok(!/\binet /.test(stdout) && !/scope global/.test(stdout), `veth0 has only link-local addresses: ${stdout}`);
  }
  return addresses;
}

describe('what a listener lists', () => {
  const ann = (id: string | undefined, port = 5555): Announcement => ({ name: 'kitchen', port, clients: 1, maxClients: 9, ...(id === undefined ? {} : { id }) });

  it('lists a server heard over several addresses once, at its best address (IPv4, global IPv6, link-local)', () => {
    const h = new HeardServers();
    h.hear(ann('a1'), 'fe80::1%eth0', 1);
    assert.deepEqual(h.list().map((s) => s.address), ['fe80::1%eth0']);
    h.hear(ann('a1'), '2001:db8::1', 2);
    assert.deepEqual(h.list().map((s) => s.address), ['2001:db8::1']);
    h.hear(ann('a1'), '10.0.0.7', 3);
    h.hear(ann('a1'), 'fe80::1%eth0', 4);
    h.hear(ann('a1'), '2001:db8::1', 5);
    assert.deepEqual(h.list(), [{ ...ann('a1'), address: '10.0.0.7', lastHeard: 5 }]);
    // The same id from another address with another port, or another name: not the same server
    // (anyone can copy an id), so another entry — the real one is neither hidden nor moved.
    h.hear(ann('a1', 22), '10.0.0.66', 6);
    h.hear({ ...ann('a1'), name: 'kitchen2' }, '10.0.0.67', 6);
    assert.deepEqual(h.list().map((s) => `${s.name} ${endpointText(s.address, s.port)}`), ['kitchen 10.0.0.66:22', 'kitchen 10.0.0.7:5555', 'kitchen2 10.0.0.67:5555']);
    // Another instance (same name, same host even) is another entry.
    h.hear(ann('b2', 5556), 'fe80::1%eth0', 7);
    // Announcements without an id (older servers): one entry per address and port, as before.
    h.hear(ann(undefined), '10.0.0.9', 8);
    h.hear(ann(undefined), 'fe80::9%eth0', 9);
    h.hear(ann(undefined), '10.0.0.9', 10);
    assert.deepEqual(
      h.list().map((s) => endpointText(s.address, s.port)),
      ['10.0.0.66:22', '10.0.0.7:5555', '10.0.0.9:5555', '[fe80::1%eth0]:5556', '[fe80::9%eth0]:5555', '10.0.0.67:5555'],
    );
  });

  it('decodes the optional id strictly and keeps every datagram within 512 bytes', () => {
    const old = Buffer.from('{"tcpsleuth-chat":1,"name":"k","port":5555,"clients":0,"maxClients":1}');
    assert.deepEqual(decodeAnnouncement(old), { name: 'k', port: 5555, clients: 0, maxClients: 1 });
    assert.equal(decodeAnnouncement(encodeAnnouncement(ann('9f3c0a5e71d2b846')))?.id, '9f3c0a5e71d2b846');
    for (const bad of [7, '', 'x'.repeat(33), 'a b', 'ab\u001b[2J', null]) {
      assert.equal(decodeAnnouncement(Buffer.from(JSON.stringify({ 'tcpsleuth-chat': 1, name: 'k', port: 5555, id: bad }))), null, JSON.stringify(bad));
    }
    const worst = encodeAnnouncement({ name: '\u0001'.repeat(64), port: 65535, clients: Number.MAX_SAFE_INTEGER, maxClients: Number.MAX_SAFE_INTEGER, id: 'x'.repeat(32) });
    assert.ok(worst.length <= 512, `${worst.length} bytes`);
    assert.equal(decodeAnnouncement(worst)?.id, 'x'.repeat(32));
  });

  it('prints IPv6 endpoints in the form chat join HOST:PORT takes back', () => {
    assert.equal(endpointText('fe80::1%eth0', 5555), '[fe80::1%eth0]:5555');
    assert.deepEqual(parseTarget(endpointText('fe80::1%eth0', 5555), 1), { host: 'fe80::1%eth0', port: 5555 });
    assert.deepEqual(parseTarget(endpointText('2001:db8::1', 6001), 1), { host: '2001:db8::1', port: 6001 });
    assert.equal(endpointText('10.0.0.7', 5555), '10.0.0.7:5555');
  });
});

/**
 * Two namespaces joined by `link`, with hooks that stop every server and program a test started
 * and remove the namespaces; `serveIn` and `run` start them.
 */
function namespacePair(link: (a: NetNamespace, b: NetNamespace) => Promise<void>) {
  const pair = { a: undefined as unknown as NetNamespace, b: undefined as unknown as NetNamespace, serveIn, run };
  const procs: ChildProcess[] = [];
  const servers: ServerProcess[] = [];
  before(async () => {
    pair.a = await NetNamespace.create('tsl-t');
    pair.b = await NetNamespace.create('tsl-t');
    await link(pair.a, pair.b);
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
    await pair.a?.destroy();
    await pair.b?.destroy();
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
  return pair;
}

describe('chat discovery across two namespaces', () => {
  const pair = namespacePair((a, b) => connectVeth(a, b, { addressA: '10.201.0.1/24', addressB: '10.201.0.2/24' }).then(() => undefined));

  it('finds the only server on the LAN (defaults: TCP and UDP port 5555) and chats through it', async () => {
    const s = await pair.serveIn(pair.a, ['--name', 'lab-a']);
    await s.log.wait((l) => l.includes('announcing on UDP port 5555'), 5000, 'announcing');
    const j = pair.run(pair.b, process.execPath, [...CHAT_CLI, 'join', '--nick', 'bee']);
    await j.err.wait((l) => l === 'tcpsleuth chat: found lab-a at 10.201.0.1:5555 (0 here)', 5000, 'discovered');
    await j.err.wait((l) => l === 'tcpsleuth chat: connected to 10.201.0.1:5555', 5000, 'connected');
    await j.out.wait((l) => l.endsWith('*** you are now known as bee'), 5000, 'named');
    const nc = pair.run(pair.a, 'ncat', ['127.0.0.1', '5555']);
    nc.child.stdin!.write('/nick anne\nhello bee\n');
    await j.out.wait((l) => l.endsWith('<anne> hello bee'), 5000, 'anne heard in the other namespace');
    j.child.stdin!.write('hello anne\n');
    await nc.out.wait((l) => l === '<bee> hello anne', 5000, 'bee heard back');
    await s.log.wait((l) => l.includes('10.201.0.2:') && l.includes('connected as'), 1000, 'the server saw bee come over the veth');
  });

  it('hears nothing from a server started with --no-announce', async () => {
    const s = await pair.serveIn(pair.a, ['--name', 'quiet', '--no-announce', '--port', '5556']);
    assert.ok(!s.log.lines.some((l) => l.includes('announcing')));
    const j = pair.run(pair.b, process.execPath, [...CHAT_CLI, 'join', '--discover-time', '2500']);
    await j.err.wait((l) => l.includes('no chat server announced itself within 2.5 s'), 6000, 'nothing found');
    assert.equal(await within(j.exited, 5000, 'exit'), 2);
  });

  it('lists several servers and asks for one when it cannot ask (no terminal)', async () => {
    await pair.serveIn(pair.a, ['--name', 'one', '--port', '6001', '--discovery-port', '6000']);
    await pair.serveIn(pair.a, ['--name', 'two', '--port', '6002', '--discovery-port', '6000']);
    const j = pair.run(pair.b, process.execPath, [...CHAT_CLI, 'join', '--discovery-port', '6000']);
    assert.equal(await within(j.exited, 8000, 'exit'), 2);
    assert.ok(j.err.lines.includes('tcpsleuth chat: found 2 chat servers; pick one with tcpsleuth chat join HOST:PORT:'), j.err.lines.join('\n'));
    assert.ok(j.err.lines.includes('tcpsleuth chat:   one at 10.201.0.1:6001 (0 here)'), j.err.lines.join('\n'));
    assert.ok(j.err.lines.includes('tcpsleuth chat:   two at 10.201.0.1:6002 (0 here)'), j.err.lines.join('\n'));
  });

  it('lists a server heard over both IPv4 and IPv6 once, at its IPv4 address', async () => {
    // Once DAD is done the veth has link-local addresses too, and the server announces on both.
    await linkLocalOf(pair.a);
    await linkLocalOf(pair.b);
    const s = await pair.serveIn(pair.a, ['--name', 'dual', '--port', '6101', '--discovery-port', '6100']);
    await s.log.wait((l) => l.includes('announcing on UDP port 6100'), 5000, 'announcing');
    // A bare IPv6 listener next to chat join: proof that the server is heard over IPv6 as well.
    const v6 = pair.run(pair.b, process.execPath, [
      '-e',
      "const s = require('dgram').createSocket({ type: 'udp6', ipv6Only: true, reuseAddr: true }); s.on('message', (m, r) => { console.log(r.address); process.exit(0); }); s.bind(6100, '::'); setTimeout(() => process.exit(3), 4000);",
    ]);
    const j = pair.run(pair.b, process.execPath, [...CHAT_CLI, 'join', '--discovery-port', '6100', '--nick', 'dee']);
    await v6.out.wait((l) => l.startsWith('fe80:'), 5000, 'the announcement over IPv6');
    await j.err.wait((l) => l === 'tcpsleuth chat: found dual at 10.201.0.1:6101 (0 here)', 5000, 'discovered once, at its IPv4 address');
    await j.err.wait((l) => l === 'tcpsleuth chat: connected to 10.201.0.1:6101', 5000, 'connected');
  });
});

describe('chat discovery over an IPv6-only link (link-local addresses, no IPv4)', () => {
  let llA: string;
  let llB: string;
  const pair = namespacePair(async (a, b) => {
    [llA, llB] = await connectLinkLocalOnly(a, b);
  });

  it('finds the server in the other namespace (defaults) and chats through it', async () => {
    const s = await pair.serveIn(pair.a, ['--name', 'six']);
    await s.log.wait((l) => l.includes('announcing on UDP port 5555'), 5000, 'announcing');
    const j = pair.run(pair.b, process.execPath, [...CHAT_CLI, 'join', '--nick', 'bee']);
    // As heard in b: a's address, scoped to b's end of the link.
    const where = `[${llA}%veth0]:5555`;
    await j.err.wait((l) => l === `tcpsleuth chat: found six at ${where} (0 here)`, 5000, 'discovered over IPv6');
    await j.err.wait((l) => l === `tcpsleuth chat: connected to ${where}`, 5000, 'connected');
    await j.out.wait((l) => l.endsWith('*** you are now known as bee'), 5000, 'named');
    const nc = pair.run(pair.a, 'ncat', ['::1', '5555']);
    nc.child.stdin!.write('/nick anne\nhello bee\n');
    await j.out.wait((l) => l.endsWith('<anne> hello bee'), 5000, 'anne heard in the other namespace');
    j.child.stdin!.write('hello anne\n');
    await nc.out.wait((l) => l === '<bee> hello anne', 5000, 'bee heard back');
    await s.log.wait((l) => l.includes(llB) && l.includes('connected as'), 1000, 'the server saw bee come over the veth');
  });

  it('announces a server bound to its link-local address from that address; chat join takes the printed endpoint back', async () => {
    const host = `${llA}%veth0`;
    const s = await pair.serveIn(pair.a, ['--name', 'bound', '--host', host, '--port', '6201', '--discovery-port', '6200']);
    await s.log.wait((l) => l.includes('announcing on UDP port 6200'), 5000, 'announcing');
    const j = pair.run(pair.b, process.execPath, [...CHAT_CLI, 'join', '--discovery-port', '6200', '--nick', 'bee']);
    const where = `[${llA}%veth0]:6201`;
    await j.err.wait((l) => l === `tcpsleuth chat: found bound at ${where} (0 here)`, 5000, 'discovered at its own address');
    await j.err.wait((l) => l === `tcpsleuth chat: connected to ${where}`, 5000, 'connected');
    const k = pair.run(pair.b, process.execPath, [...CHAT_CLI, 'join', where, '--nick', 'kay']);
    await k.err.wait((l) => l === `tcpsleuth chat: connected to ${where}`, 5000, 'connected to the pasted endpoint');
    await k.out.wait((l) => l.endsWith('*** you are now known as kay'), 5000, 'named');
    assert.ok(!s.log.lines.some((l) => l.includes('cannot announce')), s.log.lines.join('\n'));
  });
});
