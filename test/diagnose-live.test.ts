/**
 * Real traffic, independent of the lab's socket programs: Node's own sockets (the demo's traffic,
 * src/lab/demo-traffic.ts) make a clean exchange, a connect to a closed port, a server that closes
 * with the request unread, a client that aborts with SO_LINGER {1,0} (resetAndDestroy), and a
 * client's half-close that the server answers with its own close and no byte (as a one-way
 * transfer ends), on
 * loopback in a private network namespace; tcpdump records `-i lo` and `-i any`. The findings of
 * each capture must name the sender, the kernel reason and the errno each program really printed.
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

/**
 * The traffic, run with `node -e` inside the namespace: five classic endings on 127.0.0.1, one
 * after the other; each program prints the errno Node reported to it.
 */
const TRAFFIC = `
const net = require('node:net');
const { once } = require('node:events');
const H = '127.0.0.1';
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
async function listen(port, onConn, pauseOnConnect = false) {
  const s = net.createServer({ pauseOnConnect }, onConn); s.listen(port, H); await once(s, 'listening'); return s;
}
async function dial(port) { const c = net.connect(port, H); await once(c, 'connect'); return c; }
(async () => {
  // A clean exchange (SF).
  let srv = await listen(8080, (s) => s.once('data', () => s.end('HTTP/1.0 200 OK\\r\\n\\r\\nhello\\n')));
  let c = await dial(8080); c.end('GET / HTTP/1.0\\r\\n\\r\\n'); c.resume(); await once(c, 'close'); srv.close();
  // Nobody listens on port 9.
  c = net.connect(9, H); const [e1] = await once(c, 'error'); console.log('connect to 127.0.0.1:9 → ' + e1.code);
  // The server closes without reading the request.
  let accepted = null;
  srv = await listen(8081, (s) => { accepted = s; }, true);
  c = await dial(8081); c.write('POST /upload HTTP/1.0\\r\\nContent-Length: 5\\r\\n\\r\\nabcde');
  await sleep(100); accepted.destroy();
  const out = await new Promise((resolve) => { c.once('error', (e) => resolve(e.code)); c.once('end', () => resolve('EOF')); });
  console.log('client read after the server closed unread data → ' + out); c.destroy(); srv.close();
  // The client aborts with SO_LINGER {1, 0}.
  let seen = null;
  srv = await listen(8082, (s) => { s.resume(); s.once('error', (e) => { seen = e.code; }); });
  c = await dial(8082); c.write('hello'); await sleep(50); c.resetAndDestroy(); await sleep(50);
  console.log('server read after the client aborted → ' + seen); srv.close();
  // The client half-closes after its request; the server reads it to the end and closes without
  // an answer (Node ends a socket whose peer ended, unless allowHalfOpen).
  srv = await listen(8083, (s) => s.resume());
  c = await dial(8083); c.end('PING\\r\\n'); let got = 0; c.on('data', (d) => (got += d.length)); await once(c, 'end');
  console.log('client read after its half-close → ' + got + ' bytes, then end of stream'); c.destroy(); srv.close();
})().catch((e) => { console.error(e); process.exit(1); });
`;
const FENCE_PORT = 20199;

let ns: NetNamespace | undefined;
let dir = '';
let programOutput = '';
const captures: Record<'lo' | 'any', ConnectionRecord[]> = { lo: [], any: [] };

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

describe('diagnosis of real loopback traffic (Node sockets, tcpdump -i lo and -i any)', { timeout: 60_000 }, () => {
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tsl-diagnose-live-'));
    ns = await NetNamespace.create('tsl-t');
    const lo = await LiveCapture.start(ns, 'lo', join(dir, 'lo.pcap'));
    const any = await LiveCapture.start(ns, 'any', join(dir, 'any.pcap'));
    programOutput = await run(ns, ['-e', TRAFFIC]);
    await run(ns, ['-e', `const s=require('node:dgram').createSocket('udp4');s.send('fence',${FENCE_PORT},'127.0.0.1',()=>s.close())`]);
    await Promise.all([lo.waitForUdpTo('127.0.0.1', FENCE_PORT, 5000), any.waitForUdpTo('127.0.0.1', FENCE_PORT, 5000)]);
    await Promise.all([lo.stop(), any.stop()]);
    for (const iface of ['lo', 'any'] as const) {
      for await (const r of analyze(join(dir, `${iface}.pcap`))) if (r.type === 'connection') captures[iface].push(r);
    }
  }, { timeout: 50_000 });

  after(async () => {
    await ns?.destroy();
    if (dir !== '') await rm(dir, { recursive: true, force: true });
  });

  it('the programs saw what the kernel reported to them', () => {
    assert.match(programOutput, /connect to 127\.0\.0\.1:9 → ECONNREFUSED/);
    assert.match(programOutput, /client read after the server closed unread data → ECONNRESET/);
    assert.match(programOutput, /server read after the client aborted → ECONNRESET/);
    assert.match(programOutput, /client read after its half-close → 0 bytes, then end of stream/);
  });

  for (const iface of ['lo', 'any'] as const) {
    describe(`-i ${iface}`, () => {
      it('refused: the server side, NO_SOCKET, the client got ECONNREFUSED', () => {
        const r = byPort(captures[iface], 9);
        assert.equal(r.conn_state, 'REJ');
        const f = r.findings.find((x) => x.kind === 'refused');
        assert.ok(f, JSON.stringify(r.findings));
        assert.equal(f.by, 'resp');
        assert.equal(f.reason, 'NO_SOCKET');
        assert.equal(f.errno.orig, 'ECONNREFUSED');
      });

      it('close with unread data: the server, TCP_ABORT_ON_CLOSE, the client got ECONNRESET', () => {
        const r = byPort(captures[iface], 8081);
        const f = r.findings.filter((x) => x.kind === 'reset' && x.by === 'resp');
        assert.equal(f.length, 1, JSON.stringify(r.findings));
        assert.equal(f[0]!.reason, 'TCP_ABORT_ON_CLOSE');
        assert.equal(f[0]!.errno.orig, 'ECONNRESET');
      });

      it('SO_LINGER {1,0}: the client, TCP_STATE, the server got ECONNRESET', () => {
        const r = byPort(captures[iface], 8082);
        const f = r.findings.filter((x) => x.kind === 'reset' && x.by === 'orig');
        assert.equal(f.length, 1, JSON.stringify(r.findings));
        assert.equal(f[0]!.reason, 'TCP_STATE');
        assert.equal(f[0]!.errno.resp, 'ECONNRESET');
      });

      it('a half-close answered by a close, no byte back: no finding (a one-way transfer looks the same)', () => {
        const r = byPort(captures[iface], 8083);
        assert.equal(r.conn_state, 'SF');
        assert.equal(r.resp_bytes, 0);
        assert.deepEqual(r.findings, []);
      });

      it('the clean exchange has no findings', () => {
        const r = byPort(captures[iface], 8080);
        assert.equal(r.conn_state, 'SF');
        assert.deepEqual(r.findings, []);
      });
    });
  }
});
