/**
 * `tcpsleuth lab` as a real process: list, run (text and JSON), usage errors, and cleanup when
 * the run is interrupted (SIGTERM: it cleans up itself) or killed (SIGKILL: `lab clean` does).
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { SCENARIOS } from '../src/lab/scenarios/index.js';
import { LAB_CLI, labLeftovers, nothingLeft } from './helpers/lab-leftovers.js';

interface Result {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

function start(args: string[]): { child: ChildProcess; done: Promise<Result> } {
  const child = spawn(process.execPath, [LAB_CLI, 'lab', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const done = once(child, 'close').then(([code, signal]) => ({ code: code as number | null, signal: signal as NodeJS.Signals | null, stdout, stderr }));
  const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
  void done.finally(() => clearTimeout(timer));
  return { child, done };
}

async function lab(args: string[]): Promise<Result> {
  return start(args).done;
}

/** Waits until the run of `pid` has its namespace, its tracing instance and a socket program. */
async function waitMidRun(pid: number): Promise<void> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const l = labLeftovers(pid);
    const agents = labLeftovers().processes.filter((p) => p.includes('agent.js'));
    if (l.namespaces.length > 0 && l.instances.length > 0 && agents.length > 0) return;
    if (Date.now() > deadline) throw new Error(`the lab run never got going: ${JSON.stringify(l)}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

test('lab list names every scenario', async () => {
  const r = await lab(['list']);
  assert.equal(r.code, 0, r.stderr);
  for (const s of SCENARIOS) assert.match(r.stdout, new RegExp(`^${s.name} `, 'm'));
});

test('lab run NAME prints the story, the three views and analyze, and keeps files with --out', async () => {
  const out = await mkdtemp(join(tmpdir(), 'tsl-lab-cli-'));
  try {
    const r = await lab(['run', 'close-unread-data', '--out', out]);
    assert.equal(r.code, 0, r.stderr + r.stdout);
    assert.match(r.stdout, /== close-unread-data/);
    assert.match(r.stdout, /wire \(capture\.pcap\)\s+kernel \(tracefs\)\s+application \(errno\)/);
    assert.match(r.stdout, /send RST TCP_ABORT_ON_CLOSE server→client:\d+/);
    assert.match(r.stdout, /recv\(conn, 65536 bytes\) = -1 ECONNRESET/);
    assert.match(r.stdout, /what tcpsleuth analyze concludes/);
    assert.match(r.stdout, /RSTR/);
    assert.match(r.stdout, /finding .*by resp, TCP_ABORT_ON_CLOSE/);
    assert.match(r.stdout, /capture-only diagnosis vs kernel: agrees/);
    assert.match(r.stdout, /verdict: reproduced as expected/);
    const truth = JSON.parse(await readFile(join(out, 'truth.json'), 'utf8')) as { schema: string; files: Record<string, string>; verdict: { ok: boolean } };
    assert.equal(truth.schema, 'tcpsleuth.lab.truth/1');
    assert.equal(truth.verdict.ok, true);
    for (const f of Object.values(truth.files)) assert.ok((await readFile(join(out, f))).length > 0, `${f} is not empty`);
    // The capture is complete and readable by analyze itself.
    const a = spawn(process.execPath, [LAB_CLI, 'analyze', '--json', join(out, 'capture.pcap')], { stdio: ['ignore', 'pipe', 'inherit'] });
    let text = '';
    a.stdout!.on('data', (d: Buffer) => (text += d.toString()));
    const [code] = await once(a, 'close');
    assert.equal(code, 0);
    assert.match(text, /"conn_state":"RSTR"/);
    const anyCap = await readFile(join(out, 'capture-any.pcap'));
    assert.equal(anyCap.readUInt32LE(20), 276, 'the -i any capture is Linux cooked v2 (LINKTYPE_LINUX_SLL2)');
  } finally {
    await rm(out, { recursive: true, force: true });
  }
});

test('lab run NAME --json prints truth.json', async () => {
  const r = await lab(['run', 'closed-port', '--json']);
  assert.equal(r.code, 0, r.stderr);
  const t = JSON.parse(r.stdout) as { scenario: { name: string }; connections: { resets: { by: string; kernel: { reason: string } }[]; calls: { call: string; errno: string }[] }[] };
  assert.equal(t.scenario.name, 'closed-port');
  assert.equal(t.connections[0]!.resets[0]!.by, 'resp');
  assert.equal(t.connections[0]!.resets[0]!.kernel.reason, 'NO_SOCKET');
  assert.ok(t.connections[0]!.calls.some((c) => c.call === 'connect' && c.errno === 'ECONNREFUSED'));
});

test('usage errors exit 2 with one sentence', async () => {
  const r = await lab(['run', 'no-such-scenario']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /no scenario named "no-such-scenario"/);
  const both = await lab(['run', 'closed-port', '--all']);
  assert.equal(both.code, 2);
});

test('a run stopped with SIGTERM cleans up after itself', async () => {
  const { child, done } = start(['run', 'keepalive-timeout']);
  await waitMidRun(child.pid!);
  child.kill('SIGTERM');
  const r = await done;
  assert.ok(r.signal === 'SIGTERM' || r.code === 143, `exit ${r.code} ${r.signal}: ${r.stderr}`);
  const l = labLeftovers(child.pid!);
  assert.ok(nothingLeft(l), JSON.stringify(l));
});

test('a run killed with SIGKILL leaves things behind, and lab clean removes them all', async () => {
  const { child, done } = start(['run', 'keepalive-timeout']);
  await waitMidRun(child.pid!);
  child.kill('SIGKILL');
  await done;
  const before = labLeftovers(child.pid!);
  assert.ok(before.namespaces.length === 1 && before.instances.length === 1, `a SIGKILL cannot be caught: ${JSON.stringify(before)}`);
  const r = await lab(['clean']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /removed 1 namespace/);
  assert.match(r.stdout, /removed 1 tracing instance/);
  const after = labLeftovers(child.pid!);
  assert.ok(nothingLeft(after), JSON.stringify(after));
  assert.deepEqual(labLeftovers().processes, [], 'no socket program or tcpdump of any lab run is left');
  assert.deepEqual(labLeftovers().nftTables, []);
});
