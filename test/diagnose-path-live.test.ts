/**
 * What a path does to a connection, on the real kernel: Node's sockets on loopback in a private
 * network namespace, with nft rules playing the path, recorded by tcpdump on `-i lo`.
 *  - Slow connect: the first SYN to one port is dropped (a quota of 100 bytes: one SYN). The
 *    client's kernel resends it after its 1 s timer and connect() succeeds then. The finding must
 *    say two SYNs, the second answered, about as late as the program itself measured.
 *  - Path MTU black hole: on another port, every packet longer than 1000 bytes is dropped where
 *    it arrives (after the capture point, as on a path), silently. The client's 100-byte request
 *    and the server's answer pass; its 4000-byte upload never does.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { analyze } from '../src/analyze/analyze.js';
import type { ConnectionRecord } from '../src/analyze/records.js';
import { NetNamespace } from '../src/lab/netns.js';
import { LiveCapture } from './helpers/capture.js';

const SLOW_PORT = 7003;
const MTU_PORT = 7004;
const FENCE_PORT = 20197;

const TRAFFIC = `
const net = require('node:net');
const { once } = require('node:events');
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
(async () => {
  let srv = net.createServer((s) => s.once('data', () => s.end('pong'))); srv.listen(${SLOW_PORT}, '127.0.0.1'); await once(srv, 'listening');
  const started = process.hrtime.bigint();
  let c = net.connect(${SLOW_PORT}, '127.0.0.1'); await once(c, 'connect');
  console.log('connect took ' + Number(process.hrtime.bigint() - started) / 1e6 + ' ms');
  c.end('ping'); c.resume(); await once(c, 'close'); srv.close();
  // The path MTU black hole: a small request and its answer pass, the upload hangs.
  let accepted = null;
  srv = net.createServer((s) => { accepted = s; s.once('data', () => s.write('ok')); s.resume(); }); srv.listen(${MTU_PORT}, '127.0.0.1'); await once(srv, 'listening');
  c = net.connect(${MTU_PORT}, '127.0.0.1'); await once(c, 'connect');
  c.write(Buffer.alloc(100, 0x61)); await once(c, 'data');
  c.write(Buffer.alloc(4000, 0x62));
  await sleep(2200);
  console.log('upload received by the server: ' + accepted.bytesRead + ' bytes');
  // The client's kernel keeps resending after close (an orphan socket); neither end waits for it.
  c.destroy(); accepted.destroy(); srv.close();
})().catch((e) => { console.error(e); process.exit(1); });
`;

/**
 * Input hook: drops the first SYN to SLOW_PORT (until 100 bytes of SYNs passed the rule), and
 * every packet to MTU_PORT longer than 1000 bytes, after tcpdump on lo has seen it.
 */
const RULES = `table inet tsl_path {
  chain input {
    type filter hook input priority 0;
    tcp dport ${SLOW_PORT} tcp flags & (syn | ack) == syn quota until 100 bytes drop
    tcp dport ${MTU_PORT} ip length > 1000 drop
  }
}
`;

let ns: NetNamespace | undefined;
let dir = '';
let measuredMs = -1;
let programOutput = '';
const records: ConnectionRecord[] = [];

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

function byPort(port: number): ConnectionRecord {
  const r = records.filter((x) => x.resp.port === port);
  assert.equal(r.length, 1, `one connection to port ${port}`);
  return r[0]!;
}

describe('what the path does: a dropped SYN, a path MTU black hole (nft, tcpdump -i lo)', { timeout: 30_000 }, () => {
  // A hook has no timeout of its own: a traffic program that hung would hold the suite forever.
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tsl-path-'));
    ns = await NetNamespace.create('tsl-path');
    await ns.run('ip', ['link', 'set', 'lo', 'mtu', '1500']);
    const rules = join(dir, 'rules.nft');
    await writeFile(rules, RULES);
    await ns.run('nft', ['-f', rules]);
    const lo = await LiveCapture.start(ns, 'lo', join(dir, 'lo.pcap'));
    programOutput = await run(ns, ['-e', TRAFFIC]);
    measuredMs = Number(/connect took ([\d.]+) ms/.exec(programOutput)?.[1] ?? -1);
    await run(ns, ['-e', `const s=require('node:dgram').createSocket('udp4');s.send('fence',${FENCE_PORT},'127.0.0.1',()=>s.close())`]);
    await lo.waitForUdpTo('127.0.0.1', FENCE_PORT, 10_000);
    await lo.stop();
    for await (const r of analyze(join(dir, 'lo.pcap'))) if (r.type === 'connection') records.push(r);
  }, { timeout: 25_000 });

  after(async () => {
    await ns?.destroy();
    if (dir !== '') await rm(dir, { recursive: true, force: true });
  });

  it('the slow connect\'s program waited for the kernel to resend its SYN', () => {
    assert.ok(measuredMs >= 900, `connect took ${measuredMs} ms`);
  });

  it('slow connect: two SYNs, the second answered, connect() as late as the program saw it', () => {
    const r = byPort(SLOW_PORT);
    assert.equal(r.conn_state, 'SF');
    const f = r.findings.find((x) => x.kind === 'slow-connect');
    assert.ok(f !== undefined, JSON.stringify(r.findings));
    assert.equal(f.by, 'network');
    assert.match(f.summary, new RegExp(`sent 2 SYNs before the server \\(127\\.0\\.0\\.1:${SLOW_PORT}\\) answered`));
    assert.match(f.summary, /The first SYN or its SYN-ACK was lost/);
    const took = Number(/the SYN-ACK came ([\d.]+) s after the first SYN/.exec(f.summary)?.[1]);
    assert.ok(Math.abs(took * 1000 - measuredMs) < 200, `finding ${took} s, program ${measuredMs} ms`);
    assert.deepEqual(f.errno, { orig: null, resp: null });
    assert.equal(f.calls?.orig[0]?.call, 'connect');
    assert.equal(f.frames.length, 2);
  });

  it('the server got the small request and nothing of the upload', () => {
    assert.match(programOutput, /upload received by the server: 100 bytes/);
  });

  it('path MTU black hole: the first large segment retransmitted, everything before it acknowledged', () => {
    const r = byPort(MTU_PORT);
    const f = r.findings.find((x) => x.kind === 'mtu-black-hole');
    assert.ok(f !== undefined, JSON.stringify(r.findings.map((x) => `${x.kind}: ${x.summary}`)));
    assert.equal(f.by, 'network');
    assert.match(f.summary, /The client \(127\.0\.0\.1:\d+\) retransmitted \d+ bytes, the start of its first segment larger than 100 bytes, \d+ times/);
    assert.match(f.summary, /no ICMP came back/);
    assert.equal(f.errno.orig, 'ETIMEDOUT');
    assert.ok(!r.findings.some((x) => x.kind === 'retransmission-timeout'));
  });
});
