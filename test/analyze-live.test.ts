/**
 * Live captures. `analyze --follow`: real tcpdump in a private namespace writes to a pipe
 * that stays open, a real connect() is refused, and the link then goes quiet. Zeek's timers run
 * on packet time, so without new packets the refused connection would never end; --follow keeps
 * the clock moving with the wall clock and prints the failure while tcpdump is still running.
 * The same bytes fed to a plain `analyze -` show nothing until the capture ends.
 *
 * `analyze --interface` runs tcpdump itself, inside the namespace: the same failure as it happens,
 * Ctrl-C (SIGINT) ends the capture with a report that carries tcpdump's counts, and tcpdump's
 * own refusals (no such interface, a bad filter, no permission) are one sentence and exit 2.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, it } from 'node:test';
import { NetNamespace } from '../src/lab/netns.js';
import { ethernet, pcapFile, tcpIpPacket } from './helpers/capture-builder.js';
import { cliPath } from './helpers/paths.js';
import { runCli } from './helpers/run-cli.js';

/** Port nothing listens on inside the fresh namespace. */
const CLOSED_PORT = 9;
/** Zeek's tcp_close_delay (5 s) after the RST, plus the idle tick, plus slack for a loaded machine. */
const FOLLOW_DEADLINE_MS = 20_000;

interface Analyzer {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
}

function startAnalyzer(args: string[]): Analyzer {
  const child = spawn(process.execPath, [cliPath, 'analyze', ...args, '-'], { stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString('utf8')));
  child.stderr!.on('data', (d: Buffer) => (err += d.toString('utf8')));
  child.stdin!.on('error', () => undefined);
  return { child, stdout: () => out, stderr: () => err };
}

async function waitFor(what: string, test: () => boolean, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (!test()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

let ns: NetNamespace;
before(async () => {
  ns = await NetNamespace.create();
});
after(async () => {
  await ns.destroy();
});

it('--follow prints a refused connect while the capture is still running, then only the tallies at the end', { timeout: 60_000 }, async () => {
  const tcpdump = ns.spawn('tcpdump', ['-U', '-n', '-i', 'lo', '-w', '-', 'tcp'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let tcpdumpErr = '';
  tcpdump.stderr!.on('data', (d: Buffer) => (tcpdumpErr += d.toString('utf8')));
  const followed = startAnalyzer(['--follow']);
  const followedJson = startAnalyzer(['--follow', '--json']);
  const plain = startAnalyzer([]);
  const analyzers = [followed, followedJson, plain];
  // One capture, three readers: each gets every byte tcpdump writes.
  tcpdump.stdout!.on('data', (d: Buffer) => {
    for (const a of analyzers) a.child.stdin!.write(d);
  });
  tcpdump.stdout!.on('end', () => {
    for (const a of analyzers) a.child.stdin!.end();
  });
  try {
    await waitFor('tcpdump to listen', () => tcpdumpErr.includes('listening on lo'), 10_000);
    const connect = await ns.run(process.execPath, [
      '-e',
      `require('node:net').connect(${CLOSED_PORT}, '127.0.0.1').on('error', (e) => { console.log(e.code); });`,
    ]);
    assert.equal(connect.stdout.trim(), 'ECONNREFUSED');
    // Nothing else crosses lo: only the idle clock can end the connection now.
    await waitFor('the followed failure', () => followed.stdout().includes('REJ Sr'), FOLLOW_DEADLINE_MS);
    await waitFor('the followed JSON record', () => followedJson.stdout().includes('"conn_state":"REJ"'), FOLLOW_DEADLINE_MS);
    assert.equal(tcpdump.exitCode, null, 'tcpdump is still running');
    assert.match(followed.stdout(), /^refused \(tcpsleuth explain refused\)\n  #1  127\.0\.0\.1:\d+ → 127\.0\.0\.1:9  REJ Sr  — NO_SOCKET, by the server/);
    assert.match(followed.stdout(), /client sees: connect\(\) → ECONNREFUSED "Connection refused"/);
    const record = JSON.parse(followedJson.stdout().split('\n')[0]!) as { conn_state: string; findings: Array<{ kind: string }> };
    assert.equal(record.findings[0]!.kind, 'refused');
    // Without --follow the report waits for the end of the capture.
    assert.equal(plain.stdout(), '');
  } finally {
    tcpdump.kill('SIGINT');
  }
  await Promise.all(analyzers.map((a) => (a.child.exitCode !== null ? undefined : once(a.child, 'exit'))));
  for (const a of analyzers) assert.equal(a.child.exitCode, 0, a.stderr());
  const text = followed.stdout();
  // The end report tallies what was printed as it happened, without printing it again.
  assert.equal(text.match(/#1 /g)?.length, 1, text);
  assert.match(text, /FAILURES: 1 of 1 connection\n\nrefused — 1 finding \(tcpsleuth explain refused\)\n\nHEALTHY: 0 connections/);
  assert.match(text, /1 connection; 0 other frames/);
  assert.match(plain.stdout(), /refused — 1 finding[^]*#1  127\.0\.0\.1/);
  assert.match(followedJson.stdout().trim().split('\n').at(-1)!, /^\{"type":"summary"/);
});

function startInNamespace(args: string[]): Analyzer {
  const child = ns.spawn(process.execPath, [cliPath, 'analyze', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString('utf8')));
  child.stderr!.on('data', (d: Buffer) => (err += d.toString('utf8')));
  return { child, stdout: () => out, stderr: () => err };
}

it('--interface captures with tcpdump, prints the failure as it happens, and Ctrl-C ends it with tcpdump\'s counts', { timeout: 60_000 }, async () => {
  const text = startInNamespace(['--interface', 'lo', 'tcp', 'port', String(CLOSED_PORT)]);
  const json = startInNamespace(['-i', 'lo', '--json', 'tcp']);
  const both = [text, json];
  try {
    for (const a of both) await waitFor('the capture to start', () => a.stderr().includes('with tcpdump; Ctrl-C ends it'), 15_000);
    const connect = await ns.run(process.execPath, ['-e', `require('node:net').connect(${CLOSED_PORT}, '127.0.0.1').on('error', (e) => { console.log(e.code); });`]);
    assert.equal(connect.stdout.trim(), 'ECONNREFUSED');
    await waitFor('the failure, live', () => text.stdout().includes('REJ Sr'), FOLLOW_DEADLINE_MS);
    await waitFor('the JSON record, live', () => json.stdout().includes('"conn_state":"REJ"'), FOLLOW_DEADLINE_MS);
    assert.match(text.stdout(), /^refused \(tcpsleuth explain refused\)\n  #1  127\.0\.0\.1:\d+ → 127\.0\.0\.1:9  REJ Sr/);
  } finally {
    // What Ctrl-C sends; `ip netns exec` passes it on to the CLI it runs.
    for (const a of both) a.child.kill('SIGINT');
  }
  await Promise.all(both.map((a) => (a.child.exitCode !== null ? undefined : once(a.child, 'exit'))));
  for (const a of both) assert.equal(a.child.exitCode, 0, a.stderr());
  assert.match(text.stdout(), /FAILURES: 1 of 1 connection\n\nrefused — 1 finding/);
  assert.match(text.stdout(), /tcpdump -i lo: pcap, 2 frames/);
  assert.match(text.stdout(), /live capture on lo \(tcp port 9\) by tcpdump: 2 packets captured, 0 dropped by the kernel\n/);
  const summary = JSON.parse(json.stdout().trim().split('\n').at(-1)!) as { type: string; interrupted: boolean; live: Record<string, unknown> };
  assert.equal(summary.type, 'summary');
  assert.equal(summary.interrupted, false);
  // The kernel's "received by filter" counts what the filter looked at (more than it kept).
  const { received_by_filter: received, ...live } = summary.live;
  assert.deepEqual(live, { interface: 'lo', filter: 'tcp', captured: 2, dropped_by_kernel: 0 });
  assert.ok(typeof received === 'number' && received >= 2, String(received));
});

it('--interface: what tcpdump refuses is one sentence in its own words and exit 2', { timeout: 60_000 }, async () => {
  const cases: Array<[string[], RegExp]> = [
    [['-i', 'nosuch0'], /^tcpsleuth: tcpdump cannot capture on nosuch0: .*No such device exists\n$/],
    [['-i', 'lo', 'port', 'nosuchservice'], /^tcpsleuth: tcpdump cannot capture on lo: unknown port 'nosuchservice'\n$/],
    [['-i', ''], /^tcpsleuth: --interface needs an interface name \("any" for all\)\n$/],
  ];
  for (const [args, message] of cases) {
    const a = startInNamespace(args);
    if (a.child.exitCode === null) await once(a.child, 'exit');
    assert.equal(a.child.exitCode, 2, args.join(' '));
    assert.match(a.stderr(), message);
    assert.equal(a.stdout(), '');
  }
  // Without CAP_NET_RAW: tcpdump's own "permission" sentence.
  const unprivileged = ns.spawn('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', '--inh-caps=-all', process.execPath, cliPath, 'analyze', '-i', 'lo'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let err = '';
  unprivileged.stderr!.on('data', (d: Buffer) => (err += d.toString('utf8')));
  const [code] = (await once(unprivileged, 'exit')) as [number | null];
  assert.equal(code, 2, err);
  assert.match(err, /^tcpsleuth: tcpdump cannot capture on lo: .*permission/m);
});

it('--interface: SIGTERM (kill, timeout, systemd) stops tcpdump too, reports, and exits 143; no tcpdump is left behind', { timeout: 60_000 }, async () => {
  const a = startInNamespace(['-i', 'lo', 'tcp']);
  await waitFor('the capture to start', () => a.stderr().includes('with tcpdump; Ctrl-C ends it'), 15_000);
  a.child.kill('SIGTERM');
  const [code, signal] = (await once(a.child, 'exit')) as [number | null, NodeJS.Signals | null];
  // As trace and lab end on a signal they caught: 128 + its number, after cleaning up.
  assert.deepEqual([code, signal], [143, null], a.stderr());
  assert.match(a.stdout(), /live capture on lo \(tcp\) by tcpdump: 0 packets captured, 0 dropped by the kernel/);
  // Asked from outside: what still runs in the namespace.
  assert.equal(execFileSync('ip', ['netns', 'pids', ns.name]).toString().trim(), '', 'processes left in the namespace');
});

it('--interface without tcpdump installed says so at once', { timeout: 30_000 }, async () => {
  const started = Date.now();
  const r = await runCli(['analyze', '-i', 'lo'], { env: { ...process.env, PATH: '/nonexistent' } });
  assert.equal(r.code, 2);
  assert.equal(r.stderr, 'tcpsleuth: tcpdump is not installed (Debian package "tcpdump"; scripts/setup.sh installs it)\n');
  assert.ok(Date.now() - started < 10_000, `${Date.now() - started} ms`);
});

it('--follow sums up a burst once its 10 s are over, while the link stays quiet', { timeout: 60_000 }, async () => {
  const now = Date.now() / 1000;
  const frames = [];
  for (let i = 0; i < 5; i++) {
    const [client, server] = [{ addr: '10.0.0.1', port: 40000 + i }, { addr: '10.0.0.2', port: 1000 + i }];
    frames.push({ ts: now + i * 0.01, data: ethernet(tcpIpPacket({ src: client.addr, dst: server.addr, sport: client.port, dport: server.port, seq: 1, flags: 'S' })) });
    frames.push({ ts: now + i * 0.01 + 0.0001, data: ethernet(tcpIpPacket({ src: server.addr, dst: client.addr, sport: server.port, dport: client.port, seq: 0, ack: 2, flags: 'RA' })) });
  }
  const a = startAnalyzer(['--follow']);
  // The pipe stays open and quiet: only the idle clock moves time on.
  a.child.stdin!.write(pcapFile(frames));
  try {
    await waitFor('the burst\'s count', () => a.stdout().includes('… 2 more refused findings in the same 10 s'), 40_000);
    assert.equal(a.stdout().match(/^refused \(tcpsleuth explain refused\)$/gm)?.length, 3);
  } finally {
    a.child.stdin!.end();
  }
  await once(a.child, 'exit');
  assert.equal(a.child.exitCode, 0, a.stderr());
  // Counted once: not again at the end.
  assert.equal(a.stdout().match(/… 2 more refused/g)?.length, 1);
});

it('--interface: SIGTERM while tcpdump is still starting ends both, at once', { timeout: 30_000 }, async () => {
  // A stand-in tcpdump that never says it is listening (a slow interface), and tells its pid.
  const dir = mkdtempSync(join(tmpdir(), 'tsl-fake-tcpdump-'));
  try {
    writeFileSync(join(dir, 'tcpdump'), `#!/bin/sh\necho $$ > "${dir}/pid"\nexec sleep 30\n`, { mode: 0o755 });
    const child = spawn(process.execPath, [cliPath, 'analyze', '-i', 'lo'], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, PATH: `${dir}:${process.env['PATH']}` } });
    await waitFor('the stand-in to start', () => existsSync(join(dir, 'pid')) && readFileSync(join(dir, 'pid'), 'utf8').trim() !== '', 10_000);
    const pid = Number(readFileSync(join(dir, 'pid'), 'utf8'));
    child.kill('SIGTERM');
    const [code] = (await once(child, 'exit')) as [number | null];
    assert.equal(code, 143);
    await waitFor('the stand-in to be gone', () => {
      try {
        process.kill(pid, 0);
        return false;
      } catch {
        return true;
      }
    }, 5_000);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
