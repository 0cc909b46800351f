/**
 * trace --netns attributes events raised in interrupt context by address, not by the task the
 * interrupt borrowed: two namespaces joined by veth, a client in ns1 connecting to a closed port
 * in ns2. ns2's RST (NO_SOCKET, sent in the softirq of ns1's connecting task) belongs to ns2;
 * the client's ECONNREFUSED belongs to ns1.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { after, before, describe, test } from 'node:test';
import { connectVeth, NetNamespace } from '../src/lab/netns.js';
import { listInstances } from '../src/kernel/tracefs.js';
import { jsonLines, KERNEL_CLI_PATH, testPort } from './helpers/kernel-env.js';
import { LineWatcher } from './helpers/line-watcher.js';
import { withTimeout } from './helpers/timeout.js';

const A = '10.231.7.1';
const B = '10.231.7.2';

async function startTrace(args: string[]): Promise<{ child: ReturnType<typeof spawn>; err: LineWatcher; stdout: () => string }> {
  const child = spawn(process.execPath, [KERNEL_CLI_PATH, 'trace', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  const out: Buffer[] = [];
  child.stdout!.on('data', (c: Buffer) => out.push(c));
  const err = new LineWatcher(child.stderr!, 'tcpsleuth trace');
  await err.waitFor((l) => l.includes(' in /sys/kernel/tracing/instances/'), 10_000, 'the "tracing ... in <instance>" line');
  return { child, err, stdout: () => Buffer.concat(out).toString('utf8') };
}

async function finish(t: { child: ReturnType<typeof spawn> }): Promise<void> {
  if (t.child.exitCode === null && t.child.signalCode === null) {
    const done = once(t.child, 'exit');
    t.child.kill('SIGINT');
    await withTimeout(done, 10_000, 'trace did not stop');
  }
}

describe('trace --netns with two namespaces joined by veth', () => {
  let ns1: NetNamespace;
  let ns2: NetNamespace;
  before(async () => {
    ns1 = await NetNamespace.create('tsl-t');
    ns2 = await NetNamespace.create('tsl-t');
    await connectVeth(ns1, ns2, { addressA: `${A}/24`, addressB: `${B}/24` });
  });
  after(async () => {
    await ns1?.destroy();
    await ns2?.destroy();
  });

  test("ns2's reset shows under --netns ns2 only; ns1's socket error under --netns ns1 only", async () => {
    const port = testPort();
    const args = ['--json', '--events', 'resets,drops,errors', '--port', String(port)];
    const t1 = await startTrace([...args, '--netns', ns1.name]);
    const t2 = await startTrace([...args, '--netns', ns2.name]);
    try {
      const client = ns1.spawn(process.execPath, ['-e', `require('net').connect(${port}, '${B}').on('error', (e) => { console.log(e.code); process.exit(0); })`], { stdio: ['ignore', 'pipe', 'inherit'] });
      const out = new LineWatcher(client.stdout!, 'client');
      assert.equal(await out.waitFor(() => true, 5000, 'the connect result'), 'ECONNREFUSED');
      await new Promise((r) => setTimeout(r, 500));
    } finally {
      await finish(t1);
      await finish(t2);
    }
    const ev1 = jsonLines(t1.stdout()).filter((l) => l['type'] === 'event');
    const ev2 = jsonLines(t2.stdout()).filter((l) => l['type'] === 'event');
    const show = `ns1: ${JSON.stringify(ev1)}\nns2: ${JSON.stringify(ev2)}`;
    const rst = (l: Record<string, unknown>): boolean => l['event'] === 'tcp_send_reset' && l['saddr'] === B && l['sport'] === port;
    const refused = (l: Record<string, unknown>): boolean => l['event'] === 'inet_sk_error_report' && l['errnoName'] === 'ECONNREFUSED';
    assert.ok(ev2.some(rst), `ns2 sent the RST: it is under --netns ns2\n${show}`);
    assert.ok(!ev1.some(rst), `ns2's RST is not under --netns ns1, although ns1's task was running\n${show}`);
    assert.ok(ev1.some(refused), `the client's ECONNREFUSED is under --netns ns1\n${show}`);
    assert.ok(!ev2.some(refused), `and not under --netns ns2\n${show}`);
    // The drop of the SYN happened in ns2 (its tuple comes from the RST): not ns1's.
    assert.ok(!ev1.some((l) => l['event'] === 'kfree_skb' && l['reason'] === 'NO_SOCKET'), show);
    for (const e of ev2) assert.equal(typeof e['netnsInode'], 'number');
  });

  test('no tracing instance is left', async () => {
    assert.deepEqual(await listInstances(), []);
  });
});
