/**
 * `sockets`, `leaks` and `trace` write into a pipe whose reader goes away early (`| head -1`,
 * `| true`): each ends quietly with status 0 (src/cli/output.ts guards stdout for every
 * command), with nothing on stderr but its own informational lines, and trace still removes
 * its tracing instance.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { after, before, describe, test } from 'node:test';
import { NetNamespace } from '../src/lab/netns.js';
import { listInstances } from '../src/kernel/tracefs.js';
import { KERNEL_CLI_PATH, leakyServerNamespace, type Peer, startPeer, testPort } from './helpers/kernel-env.js';
import { withTimeout } from './helpers/timeout.js';

interface Closed {
  code: number | null;
  signal: NodeJS.Signals | null;
  stderr: string;
  pid: number;
}

/**
 * Runs a command in `ns` with stdout into a pipe that the test closes after `keep` bytes (0: at
 * once, like `| true`). `poke` runs every 100 ms until the command exits (traffic for trace).
 */
async function runIntoClosingPipe(ns: NetNamespace, args: string[], keep: number, poke?: () => Promise<void>): Promise<Closed> {
  const child = ns.spawn(process.execPath, [KERNEL_CLI_PATH, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  const err: Buffer[] = [];
  child.stderr!.on('data', (c: Buffer) => err.push(c));
  let got = 0;
  if (keep === 0) child.stdout!.destroy();
  else {
    child.stdout!.on('data', (c: Buffer) => {
      got += c.length;
      if (got >= keep) child.stdout!.destroy();
    });
  }
  const done = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
  let running = true;
  const poker = (async () => {
    while (running && poke !== undefined) {
      await poke().catch(() => undefined);
      await new Promise((r) => setTimeout(r, 100));
    }
  })();
  try {
    const [code, signal] = await withTimeout(done, 20_000, `tcpsleuth ${args.join(' ')} did not exit`);
    return { code, signal, stderr: Buffer.concat(err).toString('utf8'), pid: child.pid! };
  } finally {
    running = false;
    await poker;
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
}

/** stderr without trace's own informational lines ("tracing ... in <instance>", the closing count). */
function unexpectedStderr(stderr: string): string[] {
  return stderr.split('\n').filter((l) => l !== '' && !/^tcpsleuth: (tracing |\d+ events in )/.test(l));
}

describe('output into a pipe that closes early', () => {
  let ns: NetNamespace;
  let server: Peer;
  before(async () => {
    // Something to list: a listener and CLOSE_WAIT connections.
    ({ ns, server } = await leakyServerNamespace(2, 0));
  });
  after(async () => {
    await server?.kill();
    await ns?.destroy();
  });

  const connectClosed = async (): Promise<void> => {
    const c = await startPeer(ns, 'connect-closed', [testPort()]);
    await c.out.waitFor((l) => l.startsWith('error '), 5000, 'connect result');
  };

  const cases: { name: string; args: () => string[]; keep: number; poke?: () => Promise<void> }[] = [
    { name: 'sockets | true', args: () => ['sockets'], keep: 0 },
    { name: 'sockets | head -1', args: () => ['sockets'], keep: 1 },
    { name: 'sockets --json | true', args: () => ['sockets', '--json'], keep: 0 },
    { name: 'leaks | true', args: () => ['leaks'], keep: 0 },
    { name: 'leaks --json --watch --interval 0.2 | head -c 10', args: () => ['leaks', '--json', '--watch', '--interval', '0.2', '--samples', '20'], keep: 10 },
    { name: 'trace --count --duration 1 | true', args: () => ['trace', '--count', '--duration', '1', '--netns', ns.name], keep: 0, poke: connectClosed },
    { name: 'trace --json | head -c 10', args: () => ['trace', '--json', '--events', 'all', '--netns', ns.name, '--duration', '15'], keep: 10, poke: connectClosed },
  ];
  for (const c of cases) {
    test(`${c.name}: exit status 0, nothing on stderr`, async () => {
      const r = await runIntoClosingPipe(ns, c.args(), c.keep, c.poke);
      assert.deepEqual([r.code, r.signal], [0, null], r.stderr);
      assert.deepEqual(unexpectedStderr(r.stderr), []);
    });
  }

  test('no tracing instance is left by the traces above', async () => {
    assert.deepEqual(await listInstances(), []);
  });
});
