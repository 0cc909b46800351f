/**
 * tcpsleuth leaks against the real kernel: the seed's server.c (accept, never close) rewritten
 * as a small program, clients that close gracefully (→ CLOSE_WAIT on the server) and clients
 * that reset (→ socket fds the kernel no longer lists: lsof's "can't identify protocol"), and
 * sockets never bound or connected, which look the same from outside and are no leak.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { NetNamespace } from '../src/lab/netns.js';
import { jsonLines, KERNEL_CLI_PATH, leakyServerNamespace, type Peer, runCli, startPeer } from './helpers/kernel-env.js';
import { LineWatcher } from './helpers/line-watcher.js';
import { once } from 'node:events';
import { withTimeout } from './helpers/timeout.js';

/**
 * python3 programs holding sockets: "unbound" (a TCP and a UDP socket() never bound or
 * connected); "reset-later" (an accepted connection it keeps; on stdin its client resets it).
 */
const HOLDER = `
import os, socket, struct, sys
keep = []
if sys.argv[1] == 'unbound':
    keep += [socket.socket(socket.AF_INET, socket.SOCK_STREAM), socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)]
    print('ready', os.getpid(), flush=True)
    sys.stdin.readline()
else:
    srv = socket.socket(); srv.bind(('127.0.0.1', 0)); srv.listen()
    c = socket.socket(); c.connect(srv.getsockname()); s, _ = srv.accept()
    keep += [srv, s]
    print('ready', os.getpid(), s.fileno(), flush=True)
    sys.stdin.readline()
    c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack('ii', 1, 0)); c.close()
    print('reset', flush=True)
    sys.stdin.readline()
`;

interface ProcessLeaksLine {
  pid: number;
  comm: string;
  fdCount: number;
  nofileSoft: number | null;
  closeWait: { sport: number; dport: number; daddr: string; sinceLastAckMs: number | null }[];
  finished: { fd: number; inode: number }[];
  unlisted: { fd: number; inode: number }[];
  peers: { peer: string; count: number }[];
  localPorts: { port: number; count: number }[];
  growth?: { closeWait: number; finished: number; unlisted: number; fdCount: number };
}

const FIN = 5;
const RST = 3;

describe('tcpsleuth leaks', () => {
  let ns: NetNamespace;
  let server: Peer;
  let port: number;

  before(async () => {
    ({ ns, server, port } = await leakyServerNamespace(FIN, RST));
  });
  after(async () => {
    await server?.kill();
    await ns?.destroy();
  });

  test('finds the CLOSE_WAIT sockets and lists the unidentifiable fds of the leaking server', async () => {
    const r = await runCli(['leaks', '--json', '--fail-on-leak'], ns);
    assert.equal(r.code, 1, `a leak was found, so --fail-on-leak exits 1; ${r.stderr}`);
    const [report] = jsonLines(r.stdout) as unknown as { processes: ProcessLeaksLine[]; source: string }[];
    assert.equal(report!.source, 'netlink');
    const p = report!.processes.find((x) => x.pid === server.pid);
    assert.ok(p, JSON.stringify(report));
    assert.equal(p.comm, 'node');
    assert.equal(p.closeWait.length, FIN);
    // Reset before the first look: in no table, like a never-bound socket, so listed but not called a leak.
    assert.equal(p.unlisted.length, RST);
    assert.equal(p.finished.length, 0);
    assert.deepEqual(p.localPorts, [{ port, count: FIN }]);
    assert.deepEqual(p.peers, [{ peer: '127.0.0.1', count: FIN }]);
    for (const c of p.closeWait) {
      assert.equal(c.sport, port);
      assert.ok(c.sinceLastAckMs !== null && c.sinceLastAckMs >= 0);
    }
    assert.ok(p.nofileSoft !== null && p.fdCount > FIN + RST);
    assert.equal(report!.processes.filter((x) => x.pid !== server.pid && x.closeWait.length > 0).length, 0, 'nobody else leaks');
  });

  test('the text report explains what it means and what to fix', async () => {
    const r = await runCli(['leaks', '--pid', String(server.pid)], ns);
    assert.equal(r.code, 0);
    assert.match(r.stdout, new RegExp(`pid ${server.pid} \\(node\\): ${FIN} CLOSE_WAIT, 0 finished by the kernel, ${RST} unlisted socket fds`));
    assert.match(r.stdout, /never called close\(\)/);
    assert.match(r.stdout, /can't identify protocol"\), not counted as a leak/);
    assert.match(r.stdout, /probably the same leak further on/);
  });

  test('--watch shows growth between samples', async () => {
    const run = runCli(['leaks', '--json', '--watch', '--interval', '1', '--samples', '2', '--pid', String(server.pid)], ns);
    await new Promise((r) => setTimeout(r, 300));
    const burst = await startPeer(ns, 'burst', [port, 2, 0]);
    await burst.out.waitFor((l) => l === 'done', 10_000, 'burst done');
    await burst.kill();
    const r = await run;
    const samples = jsonLines(r.stdout) as unknown as { sample: number; processes: ProcessLeaksLine[] }[];
    assert.equal(samples.length, 2);
    assert.equal(samples[0]!.processes[0]!.closeWait.length, FIN);
    assert.equal(samples[1]!.processes[0]!.closeWait.length, FIN + 2);
    assert.deepEqual(samples[1]!.processes[0]!.growth, { closeWait: 2, finished: 0, unlisted: 0, fdCount: 2 });
  });

  test('sockets never bound or connected are listed as unlisted, not leaks: --fail-on-leak exits 0', async () => {
    const holder = ns.spawn('python3', ['-c', HOLDER, 'unbound'], { stdio: ['pipe', 'pipe', 'inherit'] });
    try {
      const out = new LineWatcher(holder.stdout!, 'holder');
      const pid = Number((await out.waitFor((l) => l.startsWith('ready '), 10_000, 'ready')).split(' ')[1]);
      const r = await runCli(['leaks', '--json', '--fail-on-leak', '--pid', String(pid)], ns);
      assert.equal(r.code, 0, `unbound sockets are no leak; ${r.stdout}${r.stderr}`);
      const p = (jsonLines(r.stdout)[0] as unknown as { processes: ProcessLeaksLine[] }).processes[0]!;
      assert.equal(p.pid, pid);
      assert.deepEqual([p.closeWait.length, p.finished.length, p.unlisted.length], [0, 0, 2]);
      const text = await runCli(['leaks', '--fail-on-leak', '--pid', String(pid)], ns);
      assert.equal(text.code, 0);
      assert.match(text.stdout, /^no socket leaks found/);
      assert.match(text.stdout, /2 unlisted socket fds/);
      assert.match(text.stdout, /never bound or connected/);
    } finally {
      holder.kill('SIGKILL');
    }
  });

  test('--watch: a connection the kernel finishes between samples while the fd stays open is a leak', async () => {
    const holder = ns.spawn('python3', ['-c', HOLDER, 'reset-later'], { stdio: ['pipe', 'pipe', 'inherit'] });
    try {
      const out = new LineWatcher(holder.stdout!, 'holder');
      const ready = (await out.waitFor((l) => l.startsWith('ready '), 10_000, 'ready')).split(' ');
      const pid = Number(ready[1]);
      const fd = Number(ready[2]);
      const child = ns.spawn(process.execPath, [KERNEL_CLI_PATH, 'leaks', '--json', '--fail-on-leak', '--watch', '--interval', '1', '--samples', '2', '--pid', String(pid)], { stdio: ['ignore', 'pipe', 'pipe'] });
      const lines = new LineWatcher(child.stdout!, 'leaks --watch');
      const exited = once(child, 'exit') as Promise<[number | null]>;
      await lines.waitFor((l) => l.includes('"sample":1'), 10_000, 'the first sample');
      holder.stdin!.write('reset\n');
      await out.waitFor((l) => l === 'reset', 5000, 'the reset');
      const [code] = await withTimeout(exited, 10_000, 'leaks --watch did not end');
      const samples = jsonLines(lines.text) as unknown as { processes: ProcessLeaksLine[] }[];
      assert.equal(samples.length, 2);
      assert.deepEqual(samples[0]!.processes[0]!.finished, [], 'the connection is established at the first sample');
      assert.deepEqual(samples[1]!.processes[0]!.finished.map((f) => f.fd), [fd], lines.text);
      assert.deepEqual(samples[1]!.processes[0]!.unlisted, []);
      assert.equal(code, 1, 'a finished connection still held is a leak');
    } finally {
      holder.kill('SIGKILL');
    }
  });
});
