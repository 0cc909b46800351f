/**
 * `tcpsleuth analyze` as a user runs it: the table's order, filters, the packet-by-packet view,
 * standard input, and a progress line that only a terminal ever sees.
 */
import assert from 'node:assert/strict';
import { closeSync, mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync, spawn } from 'node:child_process';
import { gzipSync } from 'node:zlib';
import { once } from 'node:events';
import { after, describe, it } from 'node:test';
import { ProgressLine } from '../src/report/progress.js';
import { ethernet, handshakeDataClose, pcapFile, tcpIpPacket, type FrameSpec, type TcpSegmentSpec } from './helpers/capture-builder.js';
import { cliPath } from './helpers/paths.js';
import { jsonLines, runCli } from './helpers/run-cli.js';

const dir = mkdtempSync(join(tmpdir(), 'tsl-cli-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const t0 = 1700000000;
const ok = handshakeDataClose(t0, '10.0.0.1', '10.0.0.2');
const refused: TcpSegmentSpec[] = [
  { src: '10.0.0.3', dst: '10.0.0.4', sport: 41000, dport: 9, seq: 77, flags: 'S' },
  { src: '10.0.0.4', dst: '10.0.0.3', sport: 9, dport: 41000, seq: 0, ack: 78, flags: 'RA' },
];
const frames: FrameSpec[] = [...ok, ...refused].map((s, i) => ({ ts: t0 + i * 0.01, data: ethernet(tcpIpPacket(s)) }));
const capture = join(dir, 'two.pcap');
writeFileSync(capture, pcapFile(frames));

describe('analyze output', () => {
  it('lists failures before healthy connections, then a summary with the meaning of each state', async () => {
    const r = await runCli(['analyze', capture]);
    assert.equal(r.code, 0, r.stderr);
    const rows = r.stdout.split('\n').filter((l) => /^\d+\s+\d{4}-/.test(l));
    assert.equal(rows.length, 2);
    assert.match(rows[0]!, /^2\s.*10\.0\.0\.3:41000\s+10\.0\.0\.4:9\s+REJ\s+Sr\s/);
    assert.match(rows[1]!, /^1\s.*10\.0\.0\.1:40000\s+10\.0\.0\.2:80\s+SF\s+ShADadfF\s/);
    assert.match(r.stdout, /REJ\s+1\s+connection attempt rejected/);
    assert.match(r.stdout, /12 TCP segments in 2 connections/);
    assert.equal(r.stderr, '');
  });

  it('filters by host and by port, in text and JSON', async () => {
    const byHost = jsonLines((await runCli(['analyze', '--json', '--host', '10.0.0.4', capture])).stdout);
    assert.deepEqual(byHost.filter((x) => x['type'] === 'connection').map((x) => x['id']), [2]);
    // Networks, and IPv4 written as IPv6.
    for (const [host, ids] of [['10.0.0.4/31', [2]], ['10.0.0.0/29', [1, 2]], ['10.0.0.2/32', [1]], ['::ffff:10.0.0.3', [2]], ['::ffff:10.0.0.0/125', [1, 2]], ['fd00::/8', []]] as const) {
      const recs = jsonLines((await runCli(['analyze', '--json', '--host', host, capture])).stdout);
      assert.deepEqual(recs.filter((x) => x['type'] === 'connection').map((x) => x['id']), ids, host);
    }
    for (const bad of ['10.0.0.0/33', '10.0.0.0/', 'fd00::/129', '10.0.0.0/8/8']) {
      const r = await runCli(['analyze', '--host', bad, capture]);
      assert.equal(r.code, 2, bad);
      assert.match(r.stderr, /is not an IPv4 or IPv6 address or network/);
    }
    const byPort = jsonLines((await runCli(['analyze', '--json', '--port', '80', capture])).stdout);
    assert.deepEqual(byPort.filter((x) => x['type'] === 'connection').map((x) => x['id']), [1]);
    // The summary still counts the whole capture.
    assert.equal(byPort.at(-1)!['connections'], 2);
    const none = await runCli(['analyze', '--host', '192.0.2.99', '--port', '443', capture]);
    assert.doesNotMatch(none.stdout, /^\d+\s+\d{4}-/m);
    assert.match(none.stdout, /^no connection matches --host 192\.0\.2\.99 --port 443 \(of 2 connections in the capture\)\n\n/);
  });

  it('shows one connection packet by packet with sequence numbers relative to each ISN', async () => {
    const r = await runCli(['analyze', '--connection', '1', capture]);
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.trim().split('\n');
    assert.match(lines[0]!, /^connection 1: 10\.0\.0\.1:40000 → 10\.0\.0\.2:80  SF ShADadfF/);
    assert.equal(lines.length, 11);
    assert.match(lines[1]!, /^1\s+\+0\.000000\s+orig → resp\s+\[S\]\s+seq 0 len 0 win 65535 ttl 64 <mss 1460,wscale 7,sackOK>$/);
    assert.match(lines[2]!, /^2\s+\+0\.010000\s+orig ← resp\s+\[S\.\]\s+seq 0 ack 1 len 0/);
    // After the handshake the window is shown as the receiver uses it: scaled by the negotiated shift.
    assert.match(lines[4]!, /^4\s.*orig → resp\s+\[P\.\]\s+seq 1 ack 1 len 18 win 8388480 \(65535×128\)/);
    assert.match(lines[10]!, /^10\s.*orig ← resp\s+\[\.\]\s+seq 26 ack 20 len 0/);
    // A connection with findings: they follow its packets.
    const refusedTrace = (await runCli(['analyze', '--connection', '2', capture])).stdout.trim().split('\n');
    assert.equal(refusedTrace.length, 3 + 2 + 6);
    assert.equal(refusedTrace[4], 'refused (tcpsleuth explain refused)');
    assert.match(refusedTrace[5]!, /^ {2}#2 {2}10\.0\.0\.3:41000 → 10\.0\.0\.4:9 {2}REJ Sr {2}— NO_SOCKET, by the server/);
    const missing = await runCli(['analyze', '--connection', '9', capture]);
    assert.equal(missing.code, 2);
    assert.equal(missing.stdout, '');
    assert.equal(missing.stderr, `tcpsleuth: no connection with id 9 in ${capture} (ids run from 1 to 2)\n`);
  });

  it('refuses values a user cannot mean, with one line and exit 2', async () => {
    const cases: [string[], RegExp][] = [
      [['--port', ''], /--port "" is not a port number/],
      [['--port', '0x50'], /--port "0x50" is not a port number/],
      [['--port', '65536'], /--port "65536" is not a port number/],
      [['--limit', '1e3'], /--limit "1e3" must be a whole number 0 or more/],
      [['--connection', '0'], /--connection "0" must be a whole number 1 or more/],
      [['--fail-on', ','], /--fail-on needs at least one/],
      [['--fail-on', 'refused', '--no-diagnose'], /needs the diagnosis: drop --no-diagnose/],
    ];
    for (const [flags, message] of cases) {
      const r = await runCli(['analyze', ...flags, capture]);
      assert.equal(r.code, 2, flags.join(' '));
      assert.equal(r.stdout, '');
      assert.match(r.stderr, message);
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    }
    // A conn_state needs no diagnosis: --fail-on REJ still works without it.
    assert.equal((await runCli(['analyze', '--fail-on', 'REJ', '--no-diagnose', capture])).code, 1);
  });

  it('reads standard input', async () => {
    const r = await runCli(['analyze', '--json', '-'], { stdin: pcapFile(frames) });
    assert.equal(r.code, 0, r.stderr);
    const recs = jsonLines(r.stdout);
    assert.equal(recs.at(-1)!['file'], '<stdin>');
    assert.equal(recs.filter((x) => x['type'] === 'connection').length, 2);
  });

  it('--limit cuts the table and says how many more there are', async () => {
    const r = await runCli(['analyze', '--limit', '1', capture]);
    assert.match(r.stdout, /… 1 more connection \(--limit 0 shows all/);
  });
});

describe('JSON Lines to a pipe', () => {
  // Enough connections for several megabytes of JSON: stdout gets it in chunks of about 1 MiB.
  const many: FrameSpec[] = [];
  for (let i = 0; i < 5000; i++) {
    const client = `10.1.${i >> 8}.${i & 255}`;
    for (const seg of handshakeDataClose(t0, client, '10.0.0.2')) many.push({ ts: t0 + many.length * 0.001, data: ethernet(tcpIpPacket(seg)) });
  }
  const big = join(dir, 'many.pcap');
  writeFileSync(big, pcapFile(many));

  it('a slow reader gets every record whole and in order, the summary last', async () => {
    const child = spawn(process.execPath, [cliPath, 'analyze', '--json', big], { stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    // Read a chunk, then stop reading for a while: the pipe fills and the writer must wait.
    child.stdout.on('data', (d: Buffer) => {
      out.push(d);
      child.stdout.pause();
      setTimeout(() => child.stdout.resume(), 20);
    });
    const [code] = (await once(child, 'close')) as [number | null];
    assert.equal(code, 0, stderr);
    const text = Buffer.concat(out).toString('utf8');
    assert.ok(text.length > 2 << 20, `${text.length} bytes`);
    const records = jsonLines(text);
    const ids = records.filter((r) => r['type'] === 'connection').map((r) => r['id']);
    assert.deepEqual(ids, Array.from({ length: 5000 }, (_, i) => i + 1));
    assert.equal(records.at(-1)!['type'], 'summary');
    assert.equal(records.at(-1)!['connections'], 5000);
  });

  it('a reader that goes away early ends the run quietly (like `| head`)', async () => {
    const child = spawn(process.execPath, [cliPath, 'analyze', '--json', big], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    let first = '';
    child.stdout.once('data', (d: Buffer) => {
      first = d.toString('utf8');
      child.stdout.destroy();
    });
    const [code] = (await once(child, 'close')) as [number | null];
    assert.equal(code, 0);
    assert.equal(stderr, '');
    assert.match(first, /^\{"type":"connection","version":1,"id":1,/);
  });

  for (const args of [['analyze', '--json', big], ['analyze', capture], ['explain', 'ECONNRESET']]) {
    it(`output that cannot be written (a full disk) is one line and exit 2: ${args.slice(0, -1).join(' ')}`, async () => {
      const full = openSync('/dev/full', 'w');
      const child = spawn(process.execPath, [cliPath, ...args], { stdio: ['ignore', full, 'pipe'] });
      closeSync(full);
      let stderr = '';
      child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
      const [code] = (await once(child, 'close')) as [number | null];
      assert.equal(code, 2, stderr);
      assert.equal(stderr, 'tcpsleuth: cannot write the output: no space left on the device\n');
    });
  }
});

describe('pipes named as files', () => {
  // `analyze <(tcpdump -w - …)` and `analyze /dev/stdin`: the path is a FIFO that cannot be
  // peeked at or read twice; plain and gzip-compressed captures alike.
  for (const gzip of [false, true]) {
    it(`reads a ${gzip ? 'gzip-compressed ' : ''}capture from a FIFO`, async () => {
      const fifo = join(dir, `fifo-${gzip ? 'gz' : 'plain'}`);
      execFileSync('mkfifo', [fifo]);
      const bytes = gzip ? gzipSync(pcapFile(frames)) : pcapFile(frames);
      writeFileSync(`${fifo}.src`, bytes);
      // The writer is a process of its own: opening a FIFO blocks until the other end is open.
      const writer = spawn('sh', ['-c', 'cat "$1" > "$2"', 'sh', `${fifo}.src`, fifo], { stdio: 'ignore' });
      const r = await runCli(['analyze', '--json', fifo], { timeoutMs: 20_000 });
      writer.kill('SIGKILL');
      assert.equal(r.code, 0, r.stderr);
      const recs = jsonLines(r.stdout);
      assert.deepEqual(recs.filter((x) => x['type'] === 'connection').map((x) => x['conn_state']), ['SF', 'REJ']);
      assert.equal(recs.at(-1)!['compressed'], gzip);
      assert.equal(recs.at(-1)!['frames'], frames.length);
    });
  }
});

describe('--follow', () => {
  it('shows a few failures of a kind at a time and counts the rest, so a scan does not flood the terminal', async () => {
    const frames: FrameSpec[] = [];
    for (let i = 0; i < 50; i++) {
      // 40 refused connects in 0.8 s, then 10 more half a minute later.
      const t = t0 + i * 0.02 + (i >= 40 ? 30 : 0);
      frames.push({ ts: t, data: ethernet(tcpIpPacket({ src: '10.0.0.1', dst: '10.0.0.2', sport: 40000 + i, dport: 1000 + i, seq: 1, flags: 'S' })) });
      frames.push({ ts: t + 0.0001, data: ethernet(tcpIpPacket({ src: '10.0.0.2', dst: '10.0.0.1', sport: 1000 + i, dport: 40000 + i, seq: 0, ack: 2, flags: 'RA' })) });
    }
    const scan = join(dir, 'scan.pcap');
    writeFileSync(scan, pcapFile(frames));
    const r = await runCli(['analyze', '--follow', scan]);
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.split('\n').filter((l) => /^(refused \(|… \d+ more refused)/.test(l));
    const block = 'refused (tcpsleuth explain refused)';
    const held = (n: number): string => `… ${n} more refused findings in the same 10 s (not shown one by one; the report at the end tallies them)`;
    // A file this small is one chunk: every record comes out at the same capture time, in one window.
    assert.deepEqual(lines, [block, block, block, held(47)]);
    assert.match(r.stdout, /refused — 50 findings \(tcpsleuth explain refused\)\n  reasons: NO_SOCKET 50; by the server 50\n/);
  });
});

describe('standard input on a terminal', () => {
  it('is refused at once with what to do instead of waiting for a capture to be typed', async () => {
    // script(1) gives the command a pseudo-terminal as its standard input.
    const r = spawn('script', ['-qec', `${process.execPath} ${cliPath} analyze -`, '/dev/null'], { stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    r.stdout.on('data', (d: Buffer) => out.push(d));
    const hung = setTimeout(() => r.kill('SIGKILL'), 10_000);
    const [code] = (await once(r, 'close')) as [number | null];
    clearTimeout(hung);
    assert.equal(code, 2, Buffer.concat(out).toString());
    assert.match(Buffer.concat(out).toString(), /tcpsleuth: standard input is a terminal, not a capture: pipe one in/);
  });
});

describe('Ctrl-C', () => {
  it('stops reading, reports what was read, and exits 130', async () => {
    const child = spawn(process.execPath, [cliPath, 'analyze', '--json', '-'], { stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => err.push(d));
    const file = pcapFile(frames);
    // The first connection's packets, then Ctrl-C while the pipe stays open and quiet (a live
    // tcpdump with no traffic): the read must not wait for more bytes.
    child.stdin.write(file.subarray(0, 24 + 5 * 80));
    await new Promise((r) => setTimeout(r, 300));
    child.kill('SIGINT');
    // Still running 10 s later: it hangs on the pipe (killed, so the exit code check fails).
    const hung = setTimeout(() => child.kill('SIGKILL'), 10_000);
    const [code, signal] = (await once(child, 'close')) as [number | null, NodeJS.Signals | null];
    clearTimeout(hung);
    // Killed by its own SIGINT after reporting: the shell shows status 130.
    assert.deepEqual([code, signal], [null, 'SIGINT'], Buffer.concat(err).toString());
    assert.match(Buffer.concat(err).toString(), /interrupted after \d+ frames; the report covers what was read/);
    const recs = jsonLines(Buffer.concat(out).toString());
    const summary = recs.at(-1)!;
    assert.equal(summary['type'], 'summary');
    assert.equal(summary['interrupted'], true);
    assert.ok((summary['frames'] as number) < frames.length, String(summary['frames']));
  });
});

describe('SIGUSR1', () => {
  it('opens no debugger (Node would listen on 127.0.0.1:9229) and does not end the run', { timeout: 20_000 }, async () => {
    const child = spawn(process.execPath, [cliPath, 'analyze', '--json', '-'], { stdio: ['pipe', 'pipe', 'pipe'] });
    // A debugger, once open, keeps the process alive: end it either way.
    const stop = setTimeout(() => child.kill('SIGKILL'), 10_000);
    after(() => {
      clearTimeout(stop);
      child.kill('SIGKILL');
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    await new Promise((r) => setTimeout(r, 1500));
    child.kill('SIGUSR1');
    await new Promise((r) => setTimeout(r, 500));
    const listening = execFileSync('ss', ['-Hltnp']).toString().split('\n').filter((l) => l.includes(`pid=${child.pid},`));
    assert.deepEqual(listening, []);
    assert.equal(child.exitCode, null, 'still running');
    child.stdin.end(pcapFile(frames));
    const [code] = (await once(child, 'close')) as [number | null];
    assert.equal(code, 0, stderr);
    assert.doesNotMatch(stderr, /Debugger listening/);
  });
});

describe('Ctrl-C before the first bytes', () => {
  it('ends an empty, quiet read at once with an empty report and exit 130', async () => {
    const child = spawn(process.execPath, [cliPath, 'analyze', '--json', '-'], { stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => err.push(d));
    await new Promise((r) => setTimeout(r, 500));
    child.kill('SIGINT');
    const hung = setTimeout(() => child.kill('SIGKILL'), 10_000);
    const [code, signal] = (await once(child, 'close')) as [number | null, NodeJS.Signals | null];
    clearTimeout(hung);
    // Killed by its own SIGINT after reporting: the shell shows status 130.
    assert.deepEqual([code, signal], [null, 'SIGINT'], Buffer.concat(err).toString());
    const recs = jsonLines(Buffer.concat(out).toString());
    assert.equal(recs.length, 1);
    assert.equal(recs[0]!['type'], 'summary');
    assert.equal(recs[0]!['interrupted'], true);
    assert.equal(recs[0]!['frames'], 0);
  });
});

describe('progress line', () => {
  it('draws on a terminal only, on one line, and clears itself', () => {
    let written = '';
    const fakeTty = { isTTY: true, write: (s: string) => ((written += s), true) } as unknown as NodeJS.WriteStream;
    assert.equal(ProgressLine.enabled(fakeTty), true);
    assert.equal(ProgressLine.enabled({ isTTY: false } as unknown as NodeJS.WriteStream), false);
    const p = new ProgressLine(fakeTty);
    p.update({ sourceBytes: 50 << 20, sourceSize: 100 << 20, frames: 123456, captureTime: null });
    assert.match(written, /^\r\x1b\[2Kreading 50\.0MiB of 100\.0MiB \(50%\), ETA \d+s, 123456 packets, [\d.]+ M packets\/s$/);
    p.clear();
    assert.ok(written.endsWith('\r\x1b[2K'));
  });

  it('never reaches stdout or a non-terminal stderr', async () => {
    const r = await runCli(['analyze', '--json', capture]);
    assert.doesNotMatch(r.stdout + r.stderr, /reading|\x1b/);
  });
});
