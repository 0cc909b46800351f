/**
 * The kernel commands against hostile or mistaken input: names that hold control, bidi or
 * newline characters (real processes that renamed themselves), and filter values that would run
 * an empty trace or report without saying why.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { NetNamespace } from '../src/lab/netns.js';
import { TraceLineParser } from '../src/kernel/trace-events.js';
import { listInstances } from '../src/kernel/tracefs.js';
import { escapeForTerminal, jsonLine } from '../src/report/terminal.js';
import { jsonLines, type Peer, runCli, startPeer, testPort } from './helpers/kernel-env.js';
import { LineWatcher } from './helpers/line-watcher.js';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { withTimeout } from './helpers/timeout.js';
import { KERNEL_CLI_PATH } from './helpers/kernel-env.js';

/** A python3 process that renames itself (writes /proc/self/comm), then listens and calls socket() on "go". */
const RENAMED = `
import os, socket, sys
open('/proc/self/comm', 'w').write(sys.argv[1])
srv = socket.socket(); srv.bind(('127.0.0.1', int(sys.argv[2]))); srv.listen()
print('ready', os.getpid(), flush=True)
for line in sys.stdin:
    socket.socket(socket.AF_INET6, socket.SOCK_DGRAM).close()
    print('done', flush=True)
`;

async function startRenamed(ns: NetNamespace, comm: string, port: number): Promise<{ pid: number; out: LineWatcher; child: ReturnType<NetNamespace['spawn']> }> {
  const child = ns.spawn('python3', ['-c', RENAMED, comm, String(port)], { stdio: ['pipe', 'pipe', 'inherit'] });
  const out = new LineWatcher(child.stdout!, 'renamed python3');
  const line = await out.waitFor((l) => l.startsWith('ready '), 10_000, 'ready');
  return { pid: Number(line.split(' ')[1]), out, child };
}

describe('escapes', () => {
  test('escapeForTerminal escapes bidi controls as \\u{…}, C0/C1 as \\xNN', () => {
    assert.equal(escapeForTerminal('a\u202eb\u2066c\u200fd\u061ce'), 'a\\u{202e}b\\u{2066}c\\u{200f}d\\u{61c}e');
    assert.equal(escapeForTerminal('x\x1b[2J\x9by\x7f'), 'x\\x1b[2J\\x9by\\x7f');
  });
  test('jsonLine escapes C1 and bidi controls as \\uXXXX and keeps the value', () => {
    const v = { comm: 'a\u009b31mb\u202ec\u007f' };
    const line = jsonLine(v);
    assert.doesNotMatch(line, /[\u007f-\u009f\u202a-\u202e]/);
    assert.match(line, /\\u009b31mb\\u202ec\\u007f/);
    assert.deepEqual(JSON.parse(line), v);
  });
  test('a trace_pipe line split by a newline in the comm is joined back; a lone tail is never taken as the name', () => {
    const p = new TraceLineParser(new Map(), 0);
    assert.equal(p.parse('          x').kind, 'other');
    const e = p.parse('sshd-123     (    123) [001] ..... 10.000001: sys_socket(family: 2, type: 1, protocol: 6)');
    assert.equal(e.kind === 'event' && e.event.comm, 'x\nsshd');
    const lone = p.parse('sshd-124     (    124) [001] ..... 10.000002: sys_socket(family: 2, type: 1, protocol: 6)');
    assert.equal(lone.kind === 'event' && lone.event.comm, '<...>');
    const normal = p.parse('            sshd-125     (    125) [001] ..... 10.000003: sys_socket(family: 2, type: 1, protocol: 6)');
    assert.equal(normal.kind === 'event' && normal.event.comm, 'sshd');
  });
});

describe('processes with hostile names, for real', () => {
  let ns: NetNamespace;
  before(async () => {
    ns = await NetNamespace.create('tsl-t');
  });
  after(async () => {
    await ns?.destroy();
  });

  test('trace: a comm with a newline is reported whole, and does not pass for its last line', async () => {
    const child = spawn(process.execPath, [KERNEL_CLI_PATH, 'trace', '--json', '--events', 'sockets', '--netns', ns.name], { stdio: ['ignore', 'pipe', 'pipe'] });
    const out = new LineWatcher(child.stdout!, 'trace');
    const err = new LineWatcher(child.stderr!, 'trace stderr');
    let renamed: Awaited<ReturnType<typeof startRenamed>> | undefined;
    try {
      await err.waitFor((l) => l.includes(' in /sys/kernel/tracing/instances/'), 10_000, 'tracing line');
      renamed = await startRenamed(ns, 'x\nsshd', testPort());
      renamed.child.stdin!.write('go\n');
      await renamed.out.waitFor((l) => l === 'done', 5000, 'socket() done');
      const line = await out.waitFor((l) => l.includes(`"pid":${renamed!.pid}`) && l.includes('"sys_enter_socket"'), 5000, 'the socket() event');
      assert.equal((JSON.parse(line) as { comm: string }).comm, 'x\nsshd');
      assert.ok(!out.text.split('\n').some((l) => l.includes('"comm":"sshd"')), out.text);
    } finally {
      renamed?.child.kill('SIGKILL');
      const done: Promise<unknown> = child.exitCode === null ? once(child, 'exit') : Promise.resolve();
      child.kill('SIGINT');
      await withTimeout(done, 10_000, 'trace did not stop');
    }
  });

  test('sockets and leaks: C1 and bidi characters of a name are escaped in text and in JSON', async () => {
    const port = testPort();
    const comm = 'a\u009bb\u202ec';
    const renamed = await startRenamed(ns, comm, port);
    try {
      const text = await runCli(['sockets', '--port', String(port)], ns);
      assert.equal(text.code, 0, text.stderr);
      assert.ok(text.stdout.includes(`a\\x9bb\\u{202e}c/${renamed.pid}/fd`), text.stdout);
      for (const args of [['sockets', '--json', '--port', String(port)], ['leaks', '--json', '--pid', String(renamed.pid)]]) {
        const r = await runCli(args, ns);
        assert.equal(r.code, 0, r.stderr);
        assert.doesNotMatch(r.stdout, /[\u0080-\u009f\u202a-\u202e\u2066-\u2069]/, `${args[0]} --json writes them escaped`);
        assert.ok(r.stdout.includes('a\\u009bb\\u202ec'), r.stdout);
        assert.ok(JSON.stringify(jsonLines(r.stdout)).includes(JSON.stringify(comm).slice(1, -1)), 'JSON readers get the name back');
      }
    } finally {
      renamed.child.kill('SIGKILL');
    }
  });
});

describe('bad filter values are usage errors (exit 2), not empty reports', () => {
  let ns: NetNamespace;
  let peer: Peer;
  before(async () => {
    ns = await NetNamespace.create('tsl-t');
    peer = await startPeer(ns, 'leaky-server', [testPort()]);
  });
  after(async () => {
    await peer?.kill();
    await ns?.destroy();
  });

  const cases: { args: string[]; message: RegExp }[] = [
    { args: ['trace', '--reason', 'BOGUS'], message: /--reason "BOGUS" is not a reason .*sk_rst_reason: .*NO_SOCKET.*skb_drop_reason: / },
    { args: ['trace', '--events', 'states', '--reason', 'NO_SOCKET'], message: /--reason: none of the traced events carries a reason/ },
    { args: ['trace', '--host', 'foo.bar'], message: /--host "foo\.bar" is not an IPv4 or IPv6 address/ },
    { args: ['trace', '--host', '999.1.1.1'], message: /--host "999\.1\.1\.1" is not an IPv4 or IPv6 address/ },
    { args: ['trace', '--netns', '1'], message: /--netns 1: no network namespace has inode 1/ },
    { args: ['trace', '--pid', '99999999'], message: /--pid 99999999: no such process/ },
    { args: ['trace', '--duration', '3000000'], message: /--duration 3000000 is too long: at most 2147483 seconds/ },
    { args: ['leaks', '--watch', '--interval', '3000000'], message: /--interval 3000000 is too long/ },
    { args: ['sockets', '--pid', '99999999'], message: /--pid 99999999: no such process/ },
    { args: ['leaks', '--pid', '99999999'], message: /--pid 99999999: no such process/ },
    { args: ['sockets', '--state', 'bogus'], message: /\(established, syn-sent, .*close-wait, / },
  ];
  for (const c of cases) {
    test(c.args.join(' '), async () => {
      const r = await runCli(c.args, null);
      assert.equal(r.code, 2, r.stderr);
      assert.equal(r.stdout, '');
      assert.equal(r.stderr.split('\n').filter((l) => l !== '').length, 1, r.stderr);
      assert.match(r.stderr, c.message);
    });
  }

  for (const command of ['sockets', 'leaks']) {
    test(`${command} --pid of a process in another network namespace names it`, async () => {
      const r = await runCli([command, '--pid', String(peer.pid)], null);
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, new RegExp(`--pid ${peer.pid} \\(node\\) lives in another network namespace \\("${ns.name}"\\).*ip netns exec ${ns.name} tcpsleuth ${command} --pid ${peer.pid}`));
      const inside = await runCli([command, '--pid', String(peer.pid)], ns);
      assert.equal(inside.code, 0, inside.stderr);
    });
  }
});

test('no tracing instance of tcpsleuth remains', async () => {
  assert.deepEqual(await listInstances(), []);
});
