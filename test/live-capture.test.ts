/**
 * End to end on real traffic: real sockets make real TCP connections inside a private network
 * namespace, tcpdump records them, and `tcpsleuth analyze --json` must describe each one the way
 * Zeek's conn.log would (conn_state, history), with packet counts that agree with tshark.
 *
 * The same traffic is read five ways: the `-i lo` pcap (Ethernet framing), the `-i any` pcap
 * (Linux cooked framing), a pcapng copy, a gzip copy, and the pcap piped into stdin.
 *
 * Before the analyzer is judged, the test checks with tshark that the wire carries what each
 * scenario intends, so a failure points at the analyzer, not at the traffic.
 */
import assert from 'node:assert/strict';
import { open, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type CaptureStats, LiveCapture } from './helpers/capture.js';
import { writeGzipCopy, writePcapngCopy } from './helpers/capture-copies.js';
import { type AnalyzeReport, type ConnectionRecord, analyzeFile, analyzeStdin } from './helpers/cli.js';
import { NetNamespace, listNamespaces } from '../src/lab/netns.js';
import { REPLY_TEXT, REQUEST_TEXT, type Scenario } from './helpers/scenarios.js';
import { TrafficScenario } from './helpers/traffic.js';
import { type TsharkView, type WirePacket, flagSequence, packetsOfPort, readWithTshark } from './helpers/tshark.js';

/** How Zeek's history for a connection must look. */
type HistoryExpectation =
  /** The wire sequence is fixed (checked with tshark), so the history is too. */
  | { exact: string }
  /** Timing decides the order of some letters (and whether a pure ACK shows as 'a'). */
  | { prefix: string; contains: string; absent: string };

interface ConnectionPlan {
  scenario: Exclude<Scenario, 'udp-fence'>;
  serverAddr: string;
  /**
   * Each scenario has its own server port: that is how its connection is found in the output.
   * All are below the kernel's ephemeral range (32768-60999 in a fresh namespace), so no
   * client socket can ever be given one of them as its local port.
   */
  serverPort: number;
  /**
   * The packets the scenario must put on the wire, as flagSequence() prints them
   * (">" client to server, "<" back, "+N" payload bytes). Optional pure ACKs depend on timing.
   */
  wire: RegExp;
  connState: string;
  history: HistoryExpectation;
  /** Payload bytes each side sent, when the connection is complete enough for Zeek to count them. */
  bytes?: { orig: number; resp: number };
}

const REQUEST_LEN = Buffer.byteLength(REQUEST_TEXT);
const REPLY_LEN = Buffer.byteLength(REPLY_TEXT);

/** Request, reply, FIN from the client, FIN from the server; pure ACKs in between come and go with timing. */
const NORMAL_EXCHANGE_WIRE = new RegExp(
  `^>S <SA >A >PA\\+${REQUEST_LEN}( <A)? <PA\\+${REPLY_LEN}( >A)? >FA( <A)? <FA >A$`,
);

const PLANS: readonly ConnectionPlan[] = [
  {
    scenario: 'normal-exchange',
    serverAddr: '127.0.0.1',
    serverPort: 20001,
    wire: NORMAL_EXCHANGE_WIRE,
    connState: 'SF',
    history: { prefix: 'ShAD', contains: 'ShADdFf', absent: 'RrQqIi' },
    bytes: { orig: REQUEST_LEN, resp: REPLY_LEN },
  },
  {
    scenario: 'refused',
    serverAddr: '127.0.0.1',
    serverPort: 20002,
    wire: /^>S <RA$/,
    connState: 'REJ',
    history: { exact: 'Sr' },
  },
  {
    scenario: 'responder-reset',
    serverAddr: '127.0.0.1',
    serverPort: 20003,
    wire: new RegExp(`^>S <SA >A >PA\\+${REQUEST_LEN}( <A)? <RA?$`),
    connState: 'RSTR',
    history: { prefix: 'ShAD', contains: 'r', absent: 'dFfR' },
  },
  {
    scenario: 'originator-reset',
    serverAddr: '127.0.0.1',
    serverPort: 20004,
    wire: /^>S <SA >A >RA?$/,
    connState: 'RSTO',
    history: { exact: 'ShAR' },
  },
  {
    scenario: 'originator-fin-only',
    serverAddr: '127.0.0.1',
    serverPort: 20005,
    wire: /^>S <SA >A >FA <A$/,
    connState: 'S2',
    history: { exact: 'ShAFa' },
  },
  {
    scenario: 'normal-exchange-ipv6',
    serverAddr: '::1',
    serverPort: 20006,
    wire: NORMAL_EXCHANGE_WIRE,
    connState: 'SF',
    history: { prefix: 'ShAD', contains: 'ShADdFf', absent: 'RrQqIi' },
    bytes: { orig: REQUEST_LEN, resp: REPLY_LEN },
  },
];

/** The UDP datagram sent after all connections; once tcpdump has printed it, the files are complete. */
const FENCE_ADDR = '127.0.0.1';
const FENCE_PORT = 20099;
const FENCE_TIMEOUT_MS = 5_000;

/** Timestamps go through text (tshark) and doubles (JSON): agree to well under a microsecond. */
const TIME_TOLERANCE_S = 2e-6;

/** First bytes of a pcapng file (Section Header Block type) and of a gzip stream. */
const PCAPNG_MAGIC = Buffer.from([0x0a, 0x0d, 0x0d, 0x0a]);
const GZIP_MAGIC = Buffer.from([0x1f, 0x8b]);

interface CaptureFiles {
  lo: string;
  any: string;
  pcapng: string;
  gzip: string;
}

/** LINKTYPE_* numbers of the framings tcpdump names in its "listening on" line. */
const LINKTYPE_BY_TCPDUMP_NAME: Readonly<Record<string, number>> = { EN10MB: 1, LINUX_SLL: 113, LINUX_SLL2: 276 };

interface AnalyzeInput {
  label: string;
  /** The file whose frames the output describes (what tshark reads for comparison). */
  file: (files: CaptureFiles) => string;
  /** Which live capture the file comes from, hence its link type. */
  source: 'lo' | 'any';
  analyze: (files: CaptureFiles) => Promise<AnalyzeReport>;
}

const INPUTS: readonly AnalyzeInput[] = [
  { label: '-i lo pcap (Ethernet)', file: (f) => f.lo, source: 'lo', analyze: (f) => analyzeFile(f.lo) },
  { label: '-i any pcap (Linux cooked)', file: (f) => f.any, source: 'any', analyze: (f) => analyzeFile(f.any) },
  { label: 'pcapng copy', file: (f) => f.pcapng, source: 'lo', analyze: (f) => analyzeFile(f.pcapng) },
  { label: 'gzip copy', file: (f) => f.gzip, source: 'lo', analyze: (f) => analyzeFile(f.gzip) },
  { label: 'stdin (-i lo pcap piped in)', file: (f) => f.lo, source: 'lo', analyze: (f) => analyzeStdin(f.lo) },
];

describe('live capture of real TCP connections in a private network namespace', { timeout: 60_000 }, () => {
  let workDir: string | undefined;
  let ns: NetNamespace | undefined;
  let files: CaptureFiles | undefined;
  let loCapture: LiveCapture | undefined;
  let anyCapture: LiveCapture | undefined;
  let stats: { lo: CaptureStats; any: CaptureStats } | undefined;
  const runs = new Map<Scenario, TrafficScenario>();
  const tsharkViews = new Map<string, Promise<TsharkView>>();

  /** tshark reads each file once, however many tests compare against it. */
  function tsharkView(file: string): Promise<TsharkView> {
    let view = tsharkViews.get(file);
    if (view === undefined) {
      view = readWithTshark(file);
      tsharkViews.set(file, view);
    }
    return view;
  }

  function captureFiles(): CaptureFiles {
    assert.ok(files, 'the capture was not made (see the failure of the before hook)');
    return files;
  }

  function clientOf(scenario: Scenario): TrafficScenario {
    const run = runs.get(scenario);
    assert.ok(run, `scenario ${scenario} did not run`);
    return run;
  }

  before(async () => {
    workDir = await mkdtemp(join(tmpdir(), 'tsl-live-'));
    const paths: CaptureFiles = {
      lo: join(workDir, 'lo.pcap'),
      any: join(workDir, 'any.pcap'),
      pcapng: join(workDir, 'lo.pcapng'),
      gzip: join(workDir, 'lo.pcap.gz'),
    };
    ns = await NetNamespace.create('tsl-t');
    const namespace = ns;
    [loCapture, anyCapture] = await Promise.all([
      LiveCapture.start(namespace, 'lo', paths.lo),
      LiveCapture.start(namespace, 'any', paths.any),
    ]);
    // One scenario at a time, each finished on the wire before the next starts.
    for (const plan of PLANS) runs.set(plan.scenario, await TrafficScenario.run(namespace, plan.scenario, plan.serverPort));
    runs.set('udp-fence', await TrafficScenario.run(namespace, 'udp-fence', FENCE_PORT));
    await Promise.all([
      loCapture.waitForUdpTo(FENCE_ADDR, FENCE_PORT, FENCE_TIMEOUT_MS),
      anyCapture.waitForUdpTo(FENCE_ADDR, FENCE_PORT, FENCE_TIMEOUT_MS),
    ]);
    const [loStats, anyStats] = await Promise.all([loCapture.stop(), anyCapture.stop()]);
    stats = { lo: loStats, any: anyStats };
    // Only now may the generators exit: a socket still open (originator-fin-only) closes on exit.
    for (const run of runs.values()) await run.finish();
    await Promise.all([writePcapngCopy(paths.lo, paths.pcapng), writeGzipCopy(paths.lo, paths.gzip)]);
    files = paths;
  });

  after(async () => {
    try {
      if (ns !== undefined) {
        await ns.destroy();
        const left = (await listNamespaces('tsl-t')).filter((name) => name === ns?.name);
        assert.deepEqual(left, [], 'the test namespace is still there after destroy()');
      }
    } finally {
      if (workDir !== undefined) await rm(workDir, { recursive: true, force: true });
    }
  });

  describe('the traffic on the wire', () => {
    it('tcpdump dropped nothing and both captures hold every frame tcpdump counted', async () => {
      assert.ok(stats, 'the captures were not stopped');
      const f = captureFiles();
      assert.equal(stats.lo.droppedByKernel, 0, 'tcpdump -i lo: packets dropped by kernel');
      assert.equal(stats.any.droppedByKernel, 0, 'tcpdump -i any: packets dropped by kernel');
      assert.equal((await tsharkView(f.lo)).frames, stats.lo.captured, 'frames in lo.pcap vs tcpdump -i lo "captured"');
      assert.equal((await tsharkView(f.any)).frames, stats.any.captured, 'frames in any.pcap vs tcpdump -i any "captured"');
    });

    it('-i lo is Ethernet framing and -i any is Linux cooked framing', () => {
      assert.ok(loCapture && anyCapture, 'the captures were not started');
      assert.equal(loCapture.linkTypeName, 'EN10MB');
      assert.match(anyCapture.linkTypeName, /^LINUX_SLL2?$/);
    });

    it('the copies really are pcapng and gzip', async () => {
      const f = captureFiles();
      assert.deepEqual(await firstBytes(f.pcapng, PCAPNG_MAGIC.length), PCAPNG_MAGIC);
      assert.deepEqual(await firstBytes(f.gzip, GZIP_MAGIC.length), GZIP_MAGIC);
    });

    for (const plan of PLANS) {
      it(`${plan.scenario}: the packets match ${plan.wire}`, async (t) => {
        const f = captureFiles();
        const client = clientOf(plan.scenario).client;
        for (const file of [f.lo, f.any]) {
          const packets = packetsOfPort(await tsharkView(file), plan.serverPort);
          const sequence = flagSequence(packets, plan.serverPort);
          t.diagnostic(`${file.endsWith('any.pcap') ? '-i any' : '-i lo '}: ${sequence}`);
          assert.match(sequence, plan.wire, `${file}, server port ${plan.serverPort}`);
          const syn = packets[0];
          assert.ok(syn);
          // The generator's client socket is the one that sent the SYN: it is the originator.
          assert.deepEqual(
            { src: syn.src, srcPort: syn.srcPort, dst: syn.dst },
            { src: client.addr, srcPort: client.port, dst: plan.serverAddr },
          );
        }
      });
    }
  });

  for (const input of INPUTS) {
    describe(`tcpsleuth analyze --json, ${input.label}`, () => {
      let report: AnalyzeReport | undefined;
      let view: TsharkView | undefined;

      before(async () => {
        const f = captureFiles();
        [report, view] = await Promise.all([input.analyze(f), tsharkView(input.file(f))]);
      });

      it('the summary counts every frame tshark sees and one connection per TCP conversation', () => {
        assert.ok(report && view);
        assert.equal(report.summary.frames, view.frames, 'summary.frames vs tshark');
        assert.equal(report.summary.connections, report.connections.length, 'summary.connections vs connection lines');
        const conversations = new Set(view.tcp.map((p) => p.stream)).size;
        assert.equal(report.connections.length, conversations, 'connection lines vs tshark TCP conversations');
        assert.equal(conversations, PLANS.length, 'each scenario is exactly one TCP conversation');
        // The framing must be recognised as what tcpdump wrote, not merely skipped over.
        const capture = input.source === 'lo' ? loCapture : anyCapture;
        assert.ok(capture);
        const linkType = LINKTYPE_BY_TCPDUMP_NAME[capture.linkTypeName];
        assert.ok(linkType !== undefined, `unexpected tcpdump link type ${capture.linkTypeName}`);
        assert.deepEqual(Object.keys(report.summary.link_types), [String(linkType)], 'summary.link_types');
        assert.equal(
          (report.summary.link_types[String(linkType)] as { frames?: unknown } | undefined)?.frames,
          view.frames,
          `summary.link_types[${linkType}].frames vs tshark`,
        );
        const ids = report.connections.map((c) => c.id);
        assert.ok(
          ids.every((id) => Number.isInteger(id)),
          `ids must be integers: ${ids.join(', ')}`,
        );
        assert.equal(new Set(ids).size, ids.length, `ids must be distinct: ${ids.join(', ')}`);
      });

      for (const plan of PLANS) {
        it(`${plan.scenario}: conn_state ${plan.connState}, history ${describeHistory(plan.history)}`, () => {
          assert.ok(report && view);
          const matching = report.connections.filter((c) => c.resp.port === plan.serverPort);
          assert.equal(matching.length, 1, `connections with resp.port ${plan.serverPort}`);
          const conn = matching[0];
          assert.ok(conn);
          assertConnection(conn, plan, clientOf(plan.scenario), packetsOfPort(view, plan.serverPort));
        });
      }
    });
  }
});

/** Checks one connection record against the scenario and against tshark's packets of it. */
function assertConnection(conn: ConnectionRecord, plan: ConnectionPlan, run: TrafficScenario, packets: WirePacket[]): void {
  const what = `${plan.scenario} (history ${JSON.stringify(conn.history)}, conn_state ${conn.conn_state})`;
  assert.deepEqual(conn.orig, run.client, `${what}: orig is the client`);
  assert.deepEqual(conn.resp, { addr: plan.serverAddr, port: plan.serverPort }, `${what}: resp is the server`);
  assert.equal(conn.conn_state, plan.connState, `${what}: conn_state`);
  assertHistory(conn.history, plan.history, what);

  const fromClient = packets.filter((p) => p.srcPort === run.client.port && p.dstPort === plan.serverPort);
  const fromServer = packets.filter((p) => p.srcPort === plan.serverPort && p.dstPort === run.client.port);
  assert.equal(fromClient.length + fromServer.length, packets.length, `${what}: every packet belongs to this connection`);
  assert.equal(conn.orig_pkts, fromClient.length, `${what}: orig_pkts vs tshark`);
  assert.equal(conn.resp_pkts, fromServer.length, `${what}: resp_pkts vs tshark`);
  assert.equal(conn.orig_pkts + conn.resp_pkts, packets.length, `${what}: packets vs tshark -Y tcp.port==${plan.serverPort}`);

  const firstPacket = packets[0];
  const lastPacket = packets[packets.length - 1];
  assert.ok(firstPacket && lastPacket);
  assert.deepEqual(conn.packets, { first: firstPacket.frame, last: lastPacket.frame }, `${what}: frame numbers`);
  assertCloseTo(conn.first, firstPacket.time, `${what}: first`);
  assertCloseTo(conn.last, lastPacket.time, `${what}: last`);

  assert.equal(conn.missed_bytes, 0, `${what}: missed_bytes (loopback loses nothing)`);
  const origPayload = fromClient.reduce((sum, p) => sum + p.payloadLen, 0);
  const respPayload = fromServer.reduce((sum, p) => sum + p.payloadLen, 0);
  if (plan.bytes !== undefined) {
    assert.deepEqual(
      { orig_bytes: conn.orig_bytes, resp_bytes: conn.resp_bytes },
      { orig_bytes: plan.bytes.orig, resp_bytes: plan.bytes.resp },
      `${what}: payload bytes`,
    );
  } else {
    // Where the contract allows null (sizes Zeek cannot tell), a number must still be the truth.
    if (conn.orig_bytes !== null) assert.equal(conn.orig_bytes, origPayload, `${what}: orig_bytes`);
    if (conn.resp_bytes !== null) assert.equal(conn.resp_bytes, respPayload, `${what}: resp_bytes`);
  }
  assert.ok(Number.isInteger(conn.id), `${what}: id is an integer`);
  assert.ok(Array.isArray(conn.findings), `${what}: findings is an array`);
}

function assertHistory(history: string, expected: HistoryExpectation, what: string): void {
  if ('exact' in expected) {
    assert.equal(history, expected.exact, `${what}: history`);
    return;
  }
  assert.ok(history.startsWith(expected.prefix), `${what}: history must start with ${expected.prefix}`);
  for (const letter of expected.contains) {
    assert.ok(history.includes(letter), `${what}: history must contain '${letter}'`);
  }
  for (const letter of expected.absent) {
    assert.ok(!history.includes(letter), `${what}: history must not contain '${letter}'`);
  }
}

function describeHistory(expected: HistoryExpectation): string {
  return 'exact' in expected
    ? expected.exact
    : `${expected.prefix}… with ${[...new Set(expected.contains)].join(',')}`;
}

function assertCloseTo(actual: number, expected: number, what: string): void {
  assert.ok(
    typeof actual === 'number' && Math.abs(actual - expected) <= TIME_TOLERANCE_S,
    `${what}: ${actual} vs tshark ${expected}`,
  );
}

async function firstBytes(file: string, count: number): Promise<Buffer> {
  const handle = await open(file, 'r');
  try {
    const buffer = Buffer.alloc(count);
    await handle.read(buffer, 0, count, 0);
    return buffer;
  } finally {
    await handle.close();
  }
}
