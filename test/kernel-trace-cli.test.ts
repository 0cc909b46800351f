/**
 * tcpsleuth trace as a command: its output for a real RST, and that its tracing instance is gone
 * after every way a run can end (event limit, --duration, SIGINT).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { after, before, describe, test } from 'node:test';
import { NetNamespace } from '../src/lab/netns.js';
import { instanceExists, listInstances } from '../src/kernel/tracefs.js';
import { jsonLines, KERNEL_CLI_PATH, runCli, startPeer, testPort } from './helpers/kernel-env.js';
import { LineWatcher } from './helpers/line-watcher.js';
import { withTimeout } from './helpers/timeout.js';

/** Starts `trace ARGS` and waits until it says its instance is live; returns the instance path. */
async function startTrace(args: string[]): Promise<{ child: ReturnType<typeof spawn>; err: LineWatcher; stdout: () => string; instance: string }> {
  const child = spawn(process.execPath, [KERNEL_CLI_PATH, 'trace', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  const out: Buffer[] = [];
  child.stdout!.on('data', (c: Buffer) => out.push(c));
  const err = new LineWatcher(child.stderr!, 'tcpsleuth trace');
  const line = await err.waitFor((l) => l.includes(' in /sys/kernel/tracing/instances/'), 10_000, 'the "tracing ... in <instance>" line');
  const instance = /in (\/sys\/kernel\/tracing\/instances\/\S+?)(?: for |;)/.exec(line)![1]!;
  return { child, err, stdout: () => Buffer.concat(out).toString('utf8'), instance };
}

async function exited(child: ReturnType<typeof spawn>, what: string): Promise<[number | null, NodeJS.Signals | null]> {
  if (child.exitCode !== null || child.signalCode !== null) return [child.exitCode, child.signalCode];
  return withTimeout(once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>, 10_000, `${what} did not exit`);
}

describe('tcpsleuth trace (command)', () => {
  let ns: NetNamespace;
  before(async () => {
    ns = await NetNamespace.create('tsl-t');
  });
  after(async () => {
    await ns?.destroy();
  });

  test('--json reports NO_SOCKET for a connect to a closed port, then ends after --max-events', async () => {
    const port = testPort();
    const t = await startTrace(['--json', '--netns', ns.name, '--port', String(port), '--reason', 'NO_SOCKET', '--events', 'resets', '--max-events', '1']);
    try {
      assert.ok(await instanceExists(t.instance), 'the instance exists while tracing');
      const client = await startPeer(ns, 'connect-closed', [port]);
      await client.out.waitFor((l) => l.startsWith('error '), 5000, 'connect result');
      const [code] = await exited(t.child, 'trace --max-events 1');
      assert.equal(code, 0, t.err.text);
      const lines = jsonLines(t.stdout());
      const events = lines.filter((l) => l['type'] === 'event');
      assert.equal(events.length, 1);
      assert.equal(events[0]!['event'], 'tcp_send_reset');
      assert.equal(events[0]!['reason'], 'NO_SOCKET');
      assert.equal(events[0]!['sport'], port);
      assert.equal(events[0]!['pid'], client.pid);
      assert.equal(lines.at(-1)!['type'], 'summary');
      assert.equal(await instanceExists(t.instance), false, 'the instance is removed after a normal end');
    } finally {
      t.child.kill('SIGKILL');
    }
  });

  test('text output names the reason, the tuple and the process, escaped', async () => {
    const port = testPort();
    const t = await startTrace(['--netns', ns.name, '--port', String(port), '--duration', '1.5']);
    const client = await startPeer(ns, 'connect-closed', [port]);
    await client.out.waitFor((l) => l.startsWith('error '), 5000, 'connect result');
    const [code] = await exited(t.child, 'trace --duration');
    assert.equal(code, 0, t.err.text);
    const text = t.stdout();
    assert.match(text, new RegExp(`RST-SENT +127\\.0\\.0\\.1:${port} -> 127\\.0\\.0\\.1:\\d+ +state=- +reason=NO_SOCKET +pid=${client.pid} comm=node \\(no socket`));
    assert.match(text, /SK-ERROR .*errno=ECONNREFUSED \(Connection refused\)/);
    assert.match(text, /DROP .*reason=NO_SOCKET +at tcp_v4_rcv/);
    assert.equal(await instanceExists(t.instance), false, 'the instance is removed after --duration');
  });

  test('--count summarises per reason', async () => {
    const port = testPort();
    const t = await startTrace(['--count', '--json', '--netns', ns.name, '--port', String(port), '--duration', '1.5']);
    for (let i = 0; i < 3; i++) {
      const c = await startPeer(ns, 'connect-closed', [port]);
      await c.out.waitFor((l) => l.startsWith('error '), 5000, 'connect result');
    }
    const [code] = await exited(t.child, 'trace --count');
    assert.equal(code, 0, t.err.text);
    const count = jsonLines(t.stdout()).find((l) => l['type'] === 'count') as { rows: { event: string; key: string; count: number }[] };
    assert.deepEqual(
      count.rows.find((r) => r.event === 'tcp_send_reset'),
      { event: 'tcp_send_reset', key: 'NO_SOCKET', count: 3 },
    );
    assert.equal(count.rows.find((r) => r.event === 'inet_sk_error_report')?.key, 'ECONNREFUSED');
  });

  test('SIGINT stops tracing and removes the instance', async () => {
    const t = await startTrace(['--events', 'all']);
    t.child.kill('SIGINT');
    const [code, signal] = await exited(t.child, 'trace after SIGINT');
    assert.equal(signal, null);
    assert.equal(code, 0, t.err.text);
    assert.match(t.err.text, /tracing instance removed/);
    assert.equal(await instanceExists(t.instance), false, 'the instance is removed after SIGINT');
  });

  test('--stack attaches the kernel stack of the RST', async () => {
    const port = testPort();
    const t = await startTrace(['--json', '--stack', '--netns', ns.name, '--port', String(port), '--events', 'resets', '--max-events', '1']);
    const client = await startPeer(ns, 'connect-closed', [port]);
    await client.out.waitFor((l) => l.startsWith('error '), 5000, 'connect result');
    await exited(t.child, 'trace --stack');
    const e = jsonLines(t.stdout()).find((l) => l['type'] === 'event')!;
    assert.ok(Array.isArray(e['stack']));
    assert.ok((e['stack'] as string[]).some((f) => f.startsWith('tcp_v4_send_reset')), JSON.stringify(e['stack']));
  });

  test('usage errors are one sentence with exit status 2', async () => {
    const r = await runCli(['trace', '--events', 'bogus'], null);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /^tcpsleuth: --events: "bogus" is not an event group/);
  });
});

test('no tracing instance of tcpsleuth remains', async () => {
  assert.deepEqual(await listInstances(), []);
});
