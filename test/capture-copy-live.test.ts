/**
 * Copies of one packet captured on two interfaces, on the real kernel: a bridge with a veth port
 * in one network namespace, the peer veth in another. `tcpdump -i any` on the bridge's side sees
 * every packet on the port and again on the bridge (a Docker or Kubernetes host). So does a
 * pcapng file merged from captures of the two interfaces. Either way the analysis must equal the
 * one of a capture with each packet once (on the far end of the veth): no retransmissions, no
 * retried SYNs, no findings on healthy connections; and the copies are counted in the summary.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { analyze } from '../src/analyze/analyze.js';
import type { ConnectionRecord, SummaryRecord } from '../src/analyze/records.js';
import { NetNamespace } from '../src/lab/netns.js';
import { LiveCapture } from './helpers/capture.js';

const execFileAsync = promisify(execFile);

const BRIDGE_SIDE = '10.77.0.1';
const FAR_SIDE = '10.77.0.2';
const PORT = 7010;
const CLOSED_PORT = 7011;
const FENCE_PORT = 20198;

const SERVER = `
const net = require('node:net');
const srv = net.createServer((s) => { s.on('data', (d) => s.write(d)); s.on('end', () => s.end()); });
srv.listen(${PORT}, '${FAR_SIDE}', () => console.log('listening'));
setTimeout(() => srv.close(), 8000).unref();
`;

const CLIENT = `
const net = require('node:net');
const { once } = require('node:events');
(async () => {
  for (let i = 0; i < 3; i++) {
    const c = net.connect(${PORT}, '${FAR_SIDE}'); await once(c, 'connect');
    c.write(Buffer.alloc(20000, 0x61)); let got = 0;
    c.on('data', (d) => { got += d.length; if (got === 20000) c.end(); });
    await once(c, 'close');
  }
  const r = net.connect(${CLOSED_PORT}, '${FAR_SIDE}'); r.on('error', () => undefined); await new Promise((resolve) => r.once('close', resolve));
  const d = require('node:dgram').createSocket('udp4'); d.send('fence', ${FENCE_PORT}, '${FAR_SIDE}', () => d.close());
})().catch((e) => { console.error(e); process.exit(1); });
`;

let bridgeNs: NetNamespace | undefined;
let farNs: NetNamespace | undefined;
let dir = '';
const results: Record<'any' | 'merged' | 'far', { records: ConnectionRecord[]; summary: SummaryRecord }> = {} as never;

async function run(ns: NetNamespace, args: string[]): Promise<void> {
  await ns.run(args[0]!, args.slice(1));
}

async function read(file: string): Promise<{ records: ConnectionRecord[]; summary: SummaryRecord }> {
  const records: ConnectionRecord[] = [];
  let summary: SummaryRecord | undefined;
  for await (const r of analyze(file)) {
    if (r.type === 'connection') records.push(r);
    else summary = r;
  }
  return { records, summary: summary! };
}

/** What must not depend on how many times the capture saw each packet. */
function essentials(r: ConnectionRecord): unknown {
  return [r.orig.port === 0 ? 0 : r.resp.port, r.conn_state, r.history, r.orig_pkts, r.resp_pkts, r.orig_bytes, r.resp_bytes, r.findings.map((f) => `${f.kind} ${f.reason}`)];
}

describe('copies of each packet from two interfaces (a bridge and its veth port)', { timeout: 40_000 }, () => {
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tsl-copy-'));
    bridgeNs = await NetNamespace.create('tsl-copy');
    farNs = await NetNamespace.create('tsl-copy');
    for (const cmd of [
      ['ip', 'link', 'add', 'br0', 'type', 'bridge'],
      ['ip', 'link', 'add', 'v0', 'type', 'veth', 'peer', 'name', 'v1'],
      ['ip', 'link', 'set', 'v1', 'netns', farNs.name],
      ['ip', 'link', 'set', 'v0', 'master', 'br0'],
      ['ip', 'addr', 'add', `${BRIDGE_SIDE}/24`, 'dev', 'br0'],
      ['ip', 'link', 'set', 'v0', 'up'],
      ['ip', 'link', 'set', 'br0', 'up'],
    ]) await run(bridgeNs, cmd);
    await run(farNs, ['ip', 'addr', 'add', `${FAR_SIDE}/24`, 'dev', 'v1']);
    await run(farNs, ['ip', 'link', 'set', 'v1', 'up']);
    const captures = {
      any: await LiveCapture.start(bridgeNs, 'any', join(dir, 'any.pcap')),
      br0: await LiveCapture.start(bridgeNs, 'br0', join(dir, 'br0.pcap')),
      v0: await LiveCapture.start(bridgeNs, 'v0', join(dir, 'v0.pcap')),
      far: await LiveCapture.start(farNs, 'v1', join(dir, 'far.pcap')),
    };
    const server = farNs.spawn(process.execPath, ['-e', SERVER], { stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise<void>((resolve) => server.stdout!.once('data', () => resolve()));
    const client = bridgeNs.spawn(process.execPath, ['-e', CLIENT], { stdio: ['ignore', 'inherit', 'inherit'] });
    const code = await new Promise<number | null>((resolve) => client.once('exit', resolve));
    assert.equal(code, 0, 'the client program');
    for (const c of Object.values(captures)) await c.waitForUdpTo(FAR_SIDE, FENCE_PORT, 10_000);
    for (const c of Object.values(captures)) await c.stop();
    server.kill();
    // Two interfaces' captures merged into one pcapng file with two interface description blocks
    // (`-I none`: by default mergecap folds identical descriptions into one).
    await execFileAsync('mergecap', ['-F', 'pcapng', '-I', 'none', '-w', join(dir, 'merged.pcapng'), join(dir, 'br0.pcap'), join(dir, 'v0.pcap')], { timeout: 10_000 });
    results.any = await read(join(dir, 'any.pcap'));
    results.merged = await read(join(dir, 'merged.pcapng'));
    results.far = await read(join(dir, 'far.pcap'));
  }, { timeout: 30_000 });

  after(async () => {
    await bridgeNs?.destroy();
    await farNs?.destroy();
    if (dir !== '') await rm(dir, { recursive: true, force: true });
  });

  it('the capture with each packet once: three echoed uploads and a refused connect', () => {
    const far = results.far;
    assert.deepEqual(far.records.map((r) => r.conn_state), ['SF', 'SF', 'SF', 'REJ']);
    assert.equal(far.summary.capture_copies, 0);
    for (const r of far.records.slice(0, 3)) assert.deepEqual(r.findings, [], JSON.stringify(r.findings));
  });

  for (const which of ['any', 'merged'] as const) {
    it(`${which === 'any' ? 'tcpdump -i any (Linux cooked v2, an ifindex per packet)' : 'a pcapng file merged from both interfaces'}: the same connections, every second copy counted`, () => {
      const { records, summary } = results[which];
      assert.deepEqual(records.map(essentials), results.far.records.map(essentials));
      // Every TCP segment was captured on both interfaces: exactly half are copies.
      assert.ok(summary.tcp_segments > 0);
      assert.equal(summary.capture_copies * 2, summary.tcp_segments);
      assert.equal(summary.tcp_segments / 2, results.far.summary.tcp_segments);
    });
  }
});
