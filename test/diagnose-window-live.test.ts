/**
 * Who sets the pace, on real transfers: Node's sockets on a loopback in a private network
 * namespace, made to look like a real path (an MTU of 1500 and a 100 Mbit/s token bucket), and
 * recorded by tcpdump on `-i lo` (`-i any` cannot keep up with a bulk transfer: in immediate mode
 * its ring has room for about 128 packets, see helpers/capture.ts).
 *  - A bulk transfer whose reader keeps up: the path is the bottleneck. No window may be full or
 *    shut; any retransmission (the token bucket drops what overflows it) is the network's.
 *  - A receiver that stops reading: the sender fills its window to the edge and the window shuts —
 *    window-full and zero-window, both blaming the receiver as a slow reader.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { analyze } from '../src/analyze/analyze.js';
import type { ConnectionRecord } from '../src/analyze/records.js';
import { NetNamespace } from '../src/lab/netns.js';
import { LiveCapture } from './helpers/capture.js';

const TRAFFIC = `
const net = require('node:net');
const { once } = require('node:events');
const H = '127.0.0.1';
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const chunk = Buffer.alloc(64 * 1024, 0x61);
(async () => {
  // 6 MiB to a reader that keeps up.
  let srv = net.createServer((s) => s.resume()); srv.listen(7001, H); await once(srv, 'listening');
  let c = net.connect(7001, H); await once(c, 'connect');
  for (let i = 0; i < 96; i++) if (!c.write(chunk)) await once(c, 'drain');
  c.end(); await once(c, 'close'); srv.close();
  // 2 MiB to a server that never reads.
  let accepted = null;
  srv = net.createServer({ pauseOnConnect: true }, (s) => { accepted = s; }); srv.listen(7002, H); await once(srv, 'listening');
  c = net.connect(7002, H); await once(c, 'connect');
  for (let i = 0; i < 32; i++) c.write(chunk);
  await sleep(800);
  console.log('bytes the client could not send: ' + c.writableLength);
  c.destroy(); accepted.destroy(); srv.close();
})().catch((e) => { console.error(e); process.exit(1); });
`;
const FENCE_PORT = 20198;

let ns: NetNamespace | undefined;
let dir = '';
let programOutput = '';
const records: ConnectionRecord[] = [];
let dropped = -1;

async function run(n: NetNamespace, args: string[]): Promise<string> {
  const child = n.spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  if (code !== 0) throw new Error(`${args.join(' ')} exited with ${code}: ${err}`);
  return out;
}

function byPort(recs: ConnectionRecord[], port: number): ConnectionRecord {
  const r = recs.filter((x) => x.resp.port === port);
  assert.equal(r.length, 1, `one connection to port ${port}`);
  return r[0]!;
}

describe('window full, zero window or the network: real transfers on a shaped loopback (tcpdump -i lo)', { timeout: 60_000 }, () => {
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tsl-diagnose-window-'));
    ns = await NetNamespace.create('tsl-w');
    await ns.run('ip', ['link', 'set', 'lo', 'mtu', '1500']);
    await ns.run('tc', ['qdisc', 'add', 'dev', 'lo', 'root', 'tbf', 'rate', '100mbit', 'burst', '32kb', 'latency', '50ms']);
    const lo = await LiveCapture.start(ns, 'lo', join(dir, 'lo.pcap'));
    programOutput = await run(ns, ['-e', TRAFFIC]);
    await run(ns, ['-e', `const s=require('node:dgram').createSocket('udp4');s.send('fence',${FENCE_PORT},'127.0.0.1',()=>s.close())`]);
    await lo.waitForUdpTo('127.0.0.1', FENCE_PORT, 10_000);
    dropped = (await lo.stop()).droppedByKernel;
    for await (const r of analyze(join(dir, 'lo.pcap'))) if (r.type === 'connection') records.push(r);
  }, { timeout: 50_000 });

  after(async () => {
    await ns?.destroy();
    if (dir !== '') await rm(dir, { recursive: true, force: true });
  });

  it('the receiver that stopped reading held the sender back', () => {
    const held = /bytes the client could not send: (\d+)/.exec(programOutput);
    assert.ok(held !== null && Number(held[1]) > 0, programOutput);
  });

  it('the capture is complete', () => {
    assert.equal(dropped, 0);
  });

  it('a bulk transfer the reader keeps up with: no full or shut window; retransmissions are the network\'s', () => {
    const r = byPort(records, 7001);
    assert.equal(r.conn_state, 'SF');
    const kinds = r.findings.map((f) => f.kind);
    assert.ok(!kinds.includes('window-full') && !kinds.includes('zero-window'), kinds.join(', '));
    for (const side of ['orig', 'resp'] as const) {
      assert.equal(r.stats?.[side].window_full_segs ?? 0, 0);
      assert.equal(r.stats?.[side].zero_window_segs ?? 0, 0);
    }
    const loss = r.findings.find((f) => f.kind === 'retransmissions');
    if (loss !== undefined) assert.match(loss.summary, /a slow or lossy network set the pace/);
  });

  it('a receiver that stops reading: window full, then zero window, both by the reader', () => {
    const r = byPort(records, 7002);
    const full = r.findings.find((f) => f.kind === 'window-full');
    assert.ok(full !== undefined, JSON.stringify(r.findings.map((f) => f.kind)));
    assert.equal(full.by, 'resp');
    assert.match(full.summary, /a slow reader, not a small buffer or a slow network/);
    assert.ok(full.confidence >= 0.85);
    assert.equal(r.findings.find((f) => f.kind === 'zero-window')?.by, 'resp');
    assert.ok((r.stats?.orig.window_full_segs ?? 0) >= 1);
    assert.ok((r.stats?.resp.zero_window_segs ?? 0) >= 1);
  });
});
