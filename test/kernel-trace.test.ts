/**
 * tcpsleuth trace as a library, against the real kernel: traffic in a private network namespace,
 * events read from a private tracefs instance, filtered to that namespace.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { NetNamespace } from '../src/lab/netns.js';
import { resolveNetns } from '../src/kernel/trace-filter.js';
import type { KernelEvent } from '../src/kernel/trace-events.js';
import { Tracer } from '../src/kernel/tracer.js';
import { instanceExists, listInstances } from '../src/kernel/tracefs.js';
import { sleep, startPeer, testPort } from './helpers/kernel-env.js';
import { withTimeout } from './helpers/timeout.js';

/** Collects a tracer's events and lets a test wait for one. */
class Recorder {
  readonly events: KernelEvent[] = [];
  private waiters: { match: (e: KernelEvent) => boolean; resolve: (e: KernelEvent) => void }[] = [];
  add = (e: KernelEvent): void => {
    this.events.push(e);
    for (const w of this.waiters.filter((w) => w.match(e))) w.resolve(e);
    this.waiters = this.waiters.filter((w) => !w.match(e));
  };
  async waitFor(match: (e: KernelEvent) => boolean, what: string): Promise<KernelEvent> {
    const seen = this.events.find(match);
    if (seen !== undefined) return seen;
    const p = new Promise<KernelEvent>((resolve) => this.waiters.push({ match, resolve }));
    try {
      return await withTimeout(p, 5000, `no ${what}; events seen:\n${this.events.map((e) => JSON.stringify(e)).join('\n')}`);
    } catch (e) {
      throw new Error(`${(e as Error).message}\n${this.events.map((x) => JSON.stringify(x)).join('\n')}`);
    }
  }
}

describe('trace (library) in a private namespace', () => {
  let ns: NetNamespace;
  let tracer: Tracer;
  const rec = new Recorder();

  before(async () => {
    ns = await NetNamespace.create('tsl-t');
    tracer = new Tracer({ groups: ['resets', 'drops', 'errors', 'states'], filter: { netnsInode: await resolveNetns(ns.name) }, onEvent: rec.add });
    await tracer.start();
    assert.ok(tracer.live, 'the tracer is live once start() resolves');
    assert.ok(tracer.instancePath !== null && (await instanceExists(tracer.instancePath)));
  });

  after(async () => {
    const path = tracer?.instancePath;
    await tracer?.stop();
    await ns?.destroy();
    if (path) assert.equal(await instanceExists(path), false, 'the instance is removed by stop()');
  });

  test('a connect to a closed port: tcp_send_reset NO_SOCKET, and ECONNREFUSED for the client', async () => {
    const port = testPort();
    const client = await startPeer(ns, 'connect-closed', [port]);
    await client.out.waitFor((l) => l.startsWith('error '), 5000, 'connect result');
    assert.match(client.out.text, /error ECONNREFUSED/);
    const rst = await rec.waitFor((e) => e.event === 'tcp_send_reset' && e.sport === port, `tcp_send_reset from port ${port}`);
    assert.equal(rst.reason, 'NO_SOCKET');
    assert.equal(typeof rst.reasonCode, 'number');
    assert.equal(rst.noSocket, true);
    assert.equal(rst.state, null, 'no socket, so no state');
    assert.equal(rst.family, 'AF_INET');
    assert.equal(rst.saddr, '127.0.0.1');
    assert.equal(rst.daddr, '127.0.0.1');
    assert.equal(rst.processIsOwner, false);
    // On loopback the SYN is processed in the connecting task's softirq: the kernel names the client.
    assert.equal(rst.pid, client.pid);
    const err = await rec.waitFor((e) => e.event === 'inet_sk_error_report' && e.dport === port, 'inet_sk_error_report');
    assert.equal(err.errnoName, 'ECONNREFUSED');
    assert.equal(err.sport, rst.dport, 'the error is on the socket the RST was sent to');
    assert.equal(err.pid, client.pid);
    const drop = await rec.waitFor((e) => e.event === 'kfree_skb' && e.skbaddr === rst.skbaddr, 'kfree_skb of the SYN');
    assert.equal(drop.reason, 'NO_SOCKET');
    assert.equal(drop.dport, port, 'the drop borrows the tuple of the RST (reversed)');
    assert.equal(drop.tupleInferred, true);
    assert.match(drop.location ?? '', /^tcp_v[46]_rcv/);
    await client.kill();
  });

  test('closing a socket with unread data: tcp_send_reset TCP_ABORT_ON_CLOSE from the server', async () => {
    const port = testPort();
    const server = await startPeer(ns, 'abort-server', [port]);
    const client = await startPeer(ns, 'client', [port, 1000]);
    const clientPort = Number(client.ready[0]);
    await server.out.waitFor((l) => l.startsWith('accepted '), 5000, 'accept');
    await sleep(100); // the 1000 bytes were written before "ready"; loopback delivered them already
    server.send('close');
    const rst = await rec.waitFor((e) => e.event === 'tcp_send_reset' && e.sport === port && e.dport === clientPort, 'tcp_send_reset from the server');
    assert.equal(rst.reason, 'TCP_ABORT_ON_CLOSE');
    assert.equal(rst.state, 'TCP_CLOSE', 'the kernel moves the socket to TCP_CLOSE before sending the RST');
    assert.equal(rst.saddr, '127.0.0.1');
    assert.equal(rst.noSocket, false);
    assert.equal(rst.pid, server.pid);
    assert.equal(rst.processIsOwner, true);
    const got = await rec.waitFor((e) => e.event === 'tcp_receive_reset' && e.sport === clientPort, 'tcp_receive_reset at the client');
    assert.equal(got.dport, port);
    const err = await rec.waitFor((e) => e.event === 'inet_sk_error_report' && e.sport === clientPort, 'ECONNRESET at the client');
    assert.equal(err.errnoName, 'ECONNRESET');
    await client.kill();
    await server.kill();
  });

  test('SO_LINGER {1,0} close: tcp_send_reset TCP_STATE from the closing process', async () => {
    const port = testPort();
    const server = await startPeer(ns, 'linger-server', [port]);
    const client = await startPeer(ns, 'client', [port, 0]);
    const clientPort = Number(client.ready[0]);
    await server.out.waitFor((l) => l.startsWith('accepted '), 5000, 'accept');
    server.send('reset');
    const rst = await rec.waitFor((e) => e.event === 'tcp_send_reset' && e.sport === port && e.dport === clientPort, 'tcp_send_reset from the server');
    assert.equal(rst.reason, 'TCP_STATE');
    // tcp_disconnect() moves the socket to TCP_CLOSE before it sends the RST, and the event says so.
    assert.equal(rst.state, 'TCP_CLOSE');
    assert.equal(rst.pid, server.pid);
    const states = rec.events.filter((e) => e.event === 'inet_sock_set_state' && e.sport === port && e.dport === clientPort);
    assert.ok(states.some((e) => e.oldState === 'TCP_ESTABLISHED' && e.state === 'TCP_CLOSE'), 'the server socket went ESTABLISHED → CLOSE');
    await client.kill();
    await server.kill();
  });

  test('events of other namespaces are filtered out', () => {
    assert.ok(rec.events.length > 0);
    const inode = rec.events.find((e) => e.netnsInode !== undefined)?.netnsInode;
    for (const e of rec.events) assert.equal(e.netnsInode, inode);
  });
});

test('no tcpsleuth tracing instance is left behind by this file', async () => {
  const mine = (await listInstances()).filter((n) => n.startsWith(`tsl-${process.pid}-`));
  assert.deepEqual(mine, []);
});
