/**
 * `analyze --follow` on a live capture: real tcpdump in a private namespace writes to a pipe
 * that stays open, a real connect() is refused, and the link then goes quiet. Zeek's timers run
 * on packet time, so without new packets the refused connection would never end; --follow keeps
 * the clock moving with the wall clock and prints the failure while tcpdump is still running.
 * The same bytes fed to a plain `analyze -` show nothing until the capture ends.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { after, before, it } from 'node:test';
import { NetNamespace } from '../src/lab/netns.js';
import { cliPath } from './helpers/paths.js';

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
