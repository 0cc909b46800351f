/**
 * tcpsleuth leaks against the real kernel: the seed's server.c (accept, never close) rewritten
 * as a small program, clients that close gracefully (→ CLOSE_WAIT on the server) and clients
 * that reset (→ socket fds the kernel no longer lists: lsof's "can't identify protocol").
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { NetNamespace } from '../src/lab/netns.js';
import { jsonLines, type Peer, runCli, startPeer, testPort } from './helpers/kernel-env.js';

interface ProcessLeaksLine {
  pid: number;
  comm: string;
  fdCount: number;
  nofileSoft: number | null;
  closeWait: { sport: number; dport: number; daddr: string; sinceLastAckMs: number | null }[];
  unidentified: { fd: number; inode: number }[];
  peers: { peer: string; count: number }[];
  localPorts: { port: number; count: number }[];
  growth?: { closeWait: number; unidentified: number; fdCount: number };
}

const FIN = 5;
const RST = 3;

describe('tcpsleuth leaks', () => {
  let ns: NetNamespace;
  let server: Peer;
  let port: number;

  before(async () => {
    ns = await NetNamespace.create('tsl-t');
    port = testPort();
    server = await startPeer(ns, 'leaky-server', [port]);
    const burst = await startPeer(ns, 'burst', [port, FIN, RST]);
    await burst.out.waitFor((l) => l === 'done', 10_000, 'burst done');
    await server.out.waitFor((l) => l === `accepted ${FIN + RST}`, 5000, 'all accepts');
    await burst.kill();
  });
  after(async () => {
    await server?.kill();
    await ns?.destroy();
  });

  test('finds the CLOSE_WAIT sockets and the unidentifiable fds of the leaking server', async () => {
    const r = await runCli(['leaks', '--json', '--fail-on-leak'], ns);
    assert.equal(r.code, 1, `a leak was found, so --fail-on-leak exits 1; ${r.stderr}`);
    const [report] = jsonLines(r.stdout) as unknown as { processes: ProcessLeaksLine[]; source: string }[];
    assert.equal(report!.source, 'netlink');
    const p = report!.processes.find((x) => x.pid === server.pid);
    assert.ok(p, JSON.stringify(report));
    assert.equal(p.comm, 'node');
    assert.equal(p.closeWait.length, FIN);
    assert.equal(p.unidentified.length, RST);
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
    assert.match(r.stdout, new RegExp(`pid ${server.pid} \\(node\\): ${FIN} CLOSE_WAIT, ${RST} unidentified socket fds`));
    assert.match(r.stdout, /never called close\(\)/);
    assert.match(r.stdout, /can't identify protocol/);
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
    assert.deepEqual(samples[1]!.processes[0]!.growth, { closeWait: 2, unidentified: 0, fdCount: 2 });
  });
});
