/**
 * tcpsleuth trace leaves no tracing instance behind however it ends: SIGHUP and SIGQUIT stop it
 * like Ctrl-C (instance removed, then 128 + signal), and what a SIGKILL leaves (it cannot be
 * caught) is removed by the next `trace` and by `tcpsleuth lab clean`.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { test } from 'node:test';
import { instanceExists, listInstances } from '../src/kernel/tracefs.js';
import { KERNEL_CLI_PATH, runCli } from './helpers/kernel-env.js';
import { LineWatcher } from './helpers/line-watcher.js';
import { withTimeout } from './helpers/timeout.js';

async function startTrace(): Promise<{ child: ReturnType<typeof spawn>; err: LineWatcher; instance: string; name: string }> {
  const child = spawn(process.execPath, [KERNEL_CLI_PATH, 'trace', '--events', 'resets'], { stdio: ['ignore', 'ignore', 'pipe'] });
  const err = new LineWatcher(child.stderr!, 'tcpsleuth trace');
  const line = await err.waitFor((l) => l.includes(' in /sys/kernel/tracing/instances/'), 10_000, 'the "tracing ... in <instance>" line');
  const instance = /in (\/sys\/kernel\/tracing\/instances\/\S+?);/.exec(line)![1]!;
  return { child, err, instance, name: instance.split('/').pop()! };
}

async function exited(child: ReturnType<typeof spawn>): Promise<[number | null, NodeJS.Signals | null]> {
  if (child.exitCode !== null || child.signalCode !== null) return [child.exitCode, child.signalCode];
  return withTimeout(once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>, 10_000, 'trace did not exit');
}

for (const [signal, status] of [
  ['SIGHUP', 129],
  ['SIGQUIT', 131],
] as const) {
  test(`${signal} removes the tracing instance, then exits with ${status}`, async () => {
    const t = await startTrace();
    try {
      assert.ok(await instanceExists(t.instance));
      t.child.kill(signal);
      const [code, sig] = await exited(t.child);
      assert.deepEqual([code, sig], [status, null], t.err.text);
      assert.match(t.err.text, new RegExp(`tracing instance removed \\(stopped by ${signal}\\)`));
      assert.equal(await instanceExists(t.instance), false, `the instance is removed after ${signal}`);
    } finally {
      t.child.kill('SIGKILL');
    }
  });
}

test('an instance left by a SIGKILLed trace is removed by the next trace, with one line on stderr', async () => {
  const t = await startTrace();
  t.child.kill('SIGKILL');
  await exited(t.child);
  assert.ok(await instanceExists(t.instance), 'SIGKILL leaves the instance (nothing can catch it)');
  const r = await runCli(['trace', '--events', 'resets', '--duration', '0.2'], null);
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stderr.split('\n').filter((l) => l.includes(t.name));
  assert.equal(lines.length, 1, r.stderr);
  assert.match(lines[0]!, /^tcpsleuth: removed a tracing instance left by a tcpsleuth trace that no longer runs/);
  assert.equal(await instanceExists(t.instance), false);
});

test('lab clean removes an instance left by a SIGKILLed trace, and leaves a running one alone', async () => {
  // The running one starts first: a trace that starts removes leftovers itself.
  const alive = await startTrace();
  const dead = await startTrace();
  dead.child.kill('SIGKILL');
  await exited(dead.child);
  try {
    const r = await runCli(['lab', 'clean'], null);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`removed \\d+ tracing instance\\(s\\): .*${dead.name}`));
    assert.equal(await instanceExists(dead.instance), false);
    assert.ok(await instanceExists(alive.instance), "a running trace's instance is not touched");
  } finally {
    alive.child.kill('SIGINT');
    await exited(alive.child);
  }
  assert.equal(await instanceExists(alive.instance), false);
});

test('no tracing instance of tcpsleuth remains', async () => {
  assert.deepEqual(await listInstances(), []);
});
