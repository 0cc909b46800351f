/**
 * `tcpsleuth lab` as a real process: list, run (text and JSON), usage errors, and cleanup when
 * the run is interrupted (SIGTERM: it cleans up itself) or killed (SIGKILL: `lab clean` does).
 */
import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, rmdir, writeFile } from 'node:fs/promises';
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

/** A pid no process can have (above any pid_max): leftovers named with it belong to a dead run. */
const DEAD_PID = 99999999;
/** setpriv's arguments to run as nobody, without root's capabilities. */
const AS_NOBODY = ['--reuid=65534', '--regid=65534', '--clear-groups', '--inh-caps=-all'];

function start(args: string[], opts: { asNobody?: boolean } = {}): { child: ChildProcess; done: Promise<Result> } {
  const child =
    opts.asNobody === true
      ? spawn('setpriv', [...AS_NOBODY, process.execPath, LAB_CLI, 'lab', ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
      : spawn(process.execPath, [LAB_CLI, 'lab', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const done = once(child, 'close').then(([code, signal]) => ({ code: code as number | null, signal: signal as NodeJS.Signals | null, stdout, stderr }));
  const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
  void done.finally(() => clearTimeout(timer));
  return { child, done };
}

async function lab(args: string[], opts: { asNobody?: boolean } = {}): Promise<Result> {
  return start(args, opts).done;
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

test('--out that cannot hold recordings: a usage error (exit 2, one sentence) before anything runs', async () => {
  const base = await mkdtemp(join(tmpdir(), 'tsl-lab-out-'));
  try {
    const file = join(base, 'somefile');
    await writeFile(file, 'x');
    const cases: [string[], RegExp][] = [
      [['run', 'closed-port', '--out', file], /exists and is not a directory/],
      [['run', '--all', '--out', file], /exists and is not a directory/],
      [['run', 'closed-port', '--out', join(file, 'sub')], /is a file, not a directory/],
      [['run', 'closed-port', '--out', '/proc/x'], /under \/proc, a kernel file system/],
      [['run', 'closed-port', '--out', '/sys/kernel/x'], /under \/sys, a kernel file system/],
    ];
    for (const [args, why] of cases) {
      const started = Date.now();
      const r = await lab(args);
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.stdout}${r.stderr}`);
      assert.match(r.stderr, /^tcpsleuth: --out [^\n]*\n$/, args.join(' '));
      assert.match(r.stderr, why, args.join(' '));
      assert.ok(Date.now() - started < 10_000, `${args.join(' ')} answered at once`);
    }
    // Unwritable for the user who runs it (nobody; a root-owned 0755 directory).
    const r = await lab(['run', 'closed-port', '--out', join(base, 'x')], { asNobody: true });
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /^tcpsleuth: --out [^\n]*(not writable|cannot be reached)[^\n]*\n$/);
  } finally {
    await rm(base, { recursive: true, force: true });
  }
});

test('usage errors exit 2 with one sentence', async () => {
  const r = await lab(['run', 'no-such-scenario']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /no scenario named "no-such-scenario"/);
  const both = await lab(['run', 'closed-port', '--all']);
  assert.equal(both.code, 2);
});

// SIGHUP is what a closed terminal sends; SIGQUIT is Ctrl-\\. Each must clean up like SIGTERM and
// end with 128 + the signal's number, saying it was interrupted.
for (const [sig, status] of [
  ['SIGTERM', 143],
  ['SIGHUP', 129],
  ['SIGQUIT', 131],
] as const) {
  test(`a run stopped with ${sig} cleans up after itself and exits ${status}`, async () => {
    const { child, done } = start(['run', 'keepalive-timeout']);
    await waitMidRun(child.pid!);
    child.kill(sig);
    const r = await done;
    assert.equal(r.code, status, `exit ${r.code} ${r.signal}: ${r.stderr}`);
    assert.match(r.stderr, new RegExp(`lab run interrupted by ${sig} during keepalive-timeout`));
    // Checked at once: the run waited for its tcpdumps and programs before it exited.
    const l = labLeftovers(child.pid!);
    assert.ok(nothingLeft(l), JSON.stringify(l));
  });
}

test('an interrupted lab run --all reports which scenarios completed, with their table', async () => {
  const { child, done } = start(['run', '--all']);
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const deadline = Date.now() + 20_000;
  while (!err.includes('lab: close-unread-data …') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  assert.ok(err.includes('lab: close-unread-data …'), err);
  await waitMidRun(child.pid!);
  child.kill('SIGINT');
  const r = await done;
  assert.equal(r.code, 130, r.stderr);
  const m = /lab run interrupted by SIGINT during (\S+); completed (\d+) of (\d+): ([^;]+);/.exec(r.stderr);
  assert.ok(m !== null, r.stderr);
  assert.equal(Number(m[3]), SCENARIOS.length);
  const completed = m[4]!.split(' ');
  assert.equal(completed.length, Number(m[2]));
  assert.equal(completed[0], 'closed-port');
  const rows = r.stdout.split('\n').filter((l) => l !== '');
  assert.match(rows[0]!, /^scenario\s+kernel RST reasons/);
  assert.deepEqual(rows.slice(2).map((l) => l.split(' ')[0]), completed, 'one table row per completed scenario');
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

test('lab clean without root: one sentence, exit 2, and nothing touched', async () => {
  const dir = join(tmpdir(), `tcpsleuth-lab-${DEAD_PID}-nonroot`);
  await mkdir(join(dir, 'sub'), { recursive: true });
  try {
    await writeFile(join(dir, 'sub', 'capture.pcap'), 'x');
    const r = await lab(['clean'], { asNobody: true });
    assert.equal(r.code, 2, r.stdout + r.stderr);
    assert.equal(r.stdout, '', 'it claims to have removed nothing');
    assert.match(r.stderr, /^tcpsleuth: lab clean needs root[^\n]*\n$/);
    assert.ok(existsSync(join(dir, 'sub', 'capture.pcap')), 'the leftover directory is still there');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('lab clean names the temporary directories it removes, and what it could not remove, with the reason', async () => {
  // A leftover directory that can be removed, one that cannot (an immutable file inside), a
  // "namespace" that `ip netns delete` refuses (a directory where its bind mount would be), and a
  // tracing instance whose trace_pipe another process holds open (EBUSY) — all of a dead run.
  const gone = join(tmpdir(), `tcpsleuth-lab-${DEAD_PID}-removable`);
  const stuck = join(tmpdir(), `tcpsleuth-lab-${DEAD_PID}-immutable`);
  const nsName = `tsllab-${DEAD_PID}-stuck0`;
  const nsPath = `/run/netns/${nsName}`;
  const inst = `/sys/kernel/tracing/instances/tsllab-${DEAD_PID}-busy00`;
  let holder: ChildProcess | null = null;
  await mkdir(gone, { recursive: true });
  await writeFile(join(gone, 'capture.pcap'), 'x');
  await mkdir(stuck, { recursive: true });
  await writeFile(join(stuck, 'truth.json'), '{}');
  try {
    execFileSync('chattr', ['+i', join(stuck, 'truth.json')]);
    await mkdir(nsPath, { recursive: true });
    await mkdir(inst);
    holder = spawn('bash', ['-c', `exec 3<${inst}/trace_pipe; echo open; exec sleep 30`], { stdio: ['ignore', 'pipe', 'ignore'] });
    await once(holder.stdout!, 'data');
    const r = await lab(['clean']);
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.match(r.stdout, new RegExp(`removed 1 temporary recording directory: ${gone}\n`));
    assert.doesNotMatch(r.stdout, new RegExp(`${nsName}|${stuck}|busy00`), 'what was not removed is not claimed');
    assert.match(r.stderr, new RegExp(`could not remove namespace ${nsName}: .*Is a directory`));
    assert.match(r.stderr, new RegExp(`could not remove tracing instance tsllab-${DEAD_PID}-busy00: EBUSY`));
    assert.match(r.stderr, new RegExp(`could not remove directory ${stuck}: E[A-Z]+`));
    assert.equal(existsSync(gone), false);
  } finally {
    holder?.kill('SIGKILL');
    if (holder !== null && holder.exitCode === null && holder.signalCode === null) await once(holder, 'exit');
    await rmdir(inst).catch(() => undefined);
    await rmdir(nsPath).catch(() => undefined);
    try {
      execFileSync('chattr', ['-i', join(stuck, 'truth.json')]);
    } catch {
      // not set
    }
    await rm(stuck, { recursive: true, force: true });
    await rm(gone, { recursive: true, force: true });
  }
});

test('lab list/clean take no arguments; lab alone prints its usage on stderr; all exit 2', async () => {
  for (const args of [['list', 'extra'], ['clean', 'extra'], ['list', '--json'], ['clean', '--all'], ['clean', '--out', '/tmp/x']]) {
    const r = await lab(args);
    assert.equal(r.code, 2, `lab ${args.join(' ')}: ${r.stdout}${r.stderr}`);
    assert.match(r.stderr, /^tcpsleuth: lab (list|clean) takes no [^\n]*\n$/, args.join(' '));
    assert.equal(r.stdout, '');
  }
  const bare = await lab([]);
  assert.equal(bare.code, 2);
  assert.equal(bare.stdout, '');
  assert.match(bare.stderr, /^usage: tcpsleuth lab list/);
  assert.match(bare.stderr, /130/, 'the usage documents the exit status of an interrupted run');
});
