/**
 * A slow connect on the real kernel: Node's sockets on loopback in a private network namespace,
 * where an nft rule drops the first SYN to the server's port (a quota of 100 bytes: one SYN).
 * The client's kernel resends the SYN after its 1 s timer and connect() succeeds then. tcpdump
 * records `-i lo`; the finding must say two SYNs, the second answered, about as late as the
 * program itself measured.
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

const PORT = 7003;
const FENCE_PORT = 20197;

const TRAFFIC = `
const net = require('node:net');
const { once } = require('node:events');
(async () => {
  const srv = net.createServer((s) => s.once('data', () => s.end('pong'))); srv.listen(${PORT}, '127.0.0.1'); await once(srv, 'listening');
  const started = process.hrtime.bigint();
  const c = net.connect(${PORT}, '127.0.0.1'); await once(c, 'connect');
  console.log('connect took ' + Number(process.hrtime.bigint() - started) / 1e6 + ' ms');
  c.end('ping'); c.resume(); await once(c, 'close'); srv.close();
})().catch((e) => { console.error(e); process.exit(1); });
`;

/** Drops SYNs (without ACK) to the port until 100 bytes of them passed the rule: the first one. */
const RULES = `table inet tsl_slow {
  chain input {
    type filter hook input priority 0;
    tcp dport ${PORT} tcp flags & (syn | ack) == syn quota until 100 bytes drop
  }
}
`;

let ns: NetNamespace | undefined;
let dir = '';
let measuredMs = -1;
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

describe('slow connect: the first SYN dropped by nft, the second answered (tcpdump -i lo)', { timeout: 30_000 }, () => {
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tsl-slow-connect-'));
    ns = await NetNamespace.create('tsl-sc');
    const rules = join(dir, 'rules.nft');
    await writeFile(rules, RULES);
    await ns.run('nft', ['-f', rules]);
    const lo = await LiveCapture.start(ns, 'lo', join(dir, 'lo.pcap'));
    const out = await run(ns, ['-e', TRAFFIC]);
    measuredMs = Number(/connect took ([\d.]+) ms/.exec(out)?.[1] ?? -1);
    await run(ns, ['-e', `const s=require('node:dgram').createSocket('udp4');s.send('fence',${FENCE_PORT},'127.0.0.1',()=>s.close())`]);
    await lo.waitForUdpTo('127.0.0.1', FENCE_PORT, 10_000);
    await lo.stop();
    for await (const r of analyze(join(dir, 'lo.pcap'))) if (r.type === 'connection' && r.resp.port === PORT) records.push(r);
  });

  after(async () => {
    await ns?.destroy();
    if (dir !== '') await rm(dir, { recursive: true, force: true });
  });

  it('the program waited for the kernel to resend its SYN', () => {
    assert.ok(measuredMs >= 900, `connect took ${measuredMs} ms`);
  });

  it('the finding: two SYNs, the second answered, connect() as late as the program saw it', () => {
    assert.equal(records.length, 1);
    const r = records[0]!;
    assert.equal(r.conn_state, 'SF');
    assert.ok(r.history.startsWith('S'), r.history);
    const f = r.findings.find((x) => x.kind === 'slow-connect');
    assert.ok(f !== undefined, JSON.stringify(r.findings));
    assert.equal(f.by, 'network');
    assert.match(f.summary, /sent 2 SYNs before the server \(127\.0\.0\.1:7003\) answered/);
    assert.match(f.summary, /The first SYN was dropped/);
    const took = Number(/the SYN-ACK came ([\d.]+) s after the first SYN/.exec(f.summary)?.[1]);
    assert.ok(Math.abs(took * 1000 - measuredMs) < 200, `finding ${took} s, program ${measuredMs} ms`);
    assert.deepEqual(f.errno, { orig: null, resp: null });
    assert.equal(f.calls?.orig[0]?.call, 'connect');
    assert.equal(f.frames.length, 2);
  });
});
