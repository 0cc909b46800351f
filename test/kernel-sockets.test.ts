/**
 * tcpsleuth sockets against the real kernel: a listener and an established connection in a
 * private namespace, read over netlink sock_diag (and through the /proc fallback), with owners.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { NetNamespace } from '../src/lab/netns.js';
import { decodeInetDiagMsg, encodeInetDiagReqV2 } from '../src/kernel/sockdiag.js';
import { parseProcNetTcp } from '../src/kernel/proc-net-tcp.js';
import { jsonLines, type Peer, runCli, startPeer, testPort } from './helpers/kernel-env.js';
import { LineWatcher } from './helpers/line-watcher.js';

/**
 * python3 sockets in states whose numbers need care: a listener with two connections it never
 * accepts, CLOSE-WAIT sockets with nothing and with 5 bytes unread (the peer's FIN counts in
 * idiag_rqueue), and a SYN-SENT socket towards an address nobody answers ARP for (the SYN
 * goes nowhere). Prints the ports as JSON.
 */
const STATES = `
import json, os, socket, sys
keep = []
lst = socket.socket(); lst.bind(('127.0.0.1', 0)); lst.listen(8)
for _ in range(2):
    c = socket.socket(); c.connect(lst.getsockname()); keep.append(c)
srv = socket.socket(); srv.bind(('127.0.0.1', 0)); srv.listen(8)
ports = {'listen': lst.getsockname()[1], 'server': srv.getsockname()[1]}
for n in (0, 5):
    c = socket.socket(); c.connect(srv.getsockname()); s, _ = srv.accept()
    if n: c.sendall(b'x' * n)
    c.close(); keep.append(s)
    ports['cw%d' % n] = s.getpeername()[1]
syn = socket.socket(); syn.setblocking(False)
try:
    syn.connect(('10.77.0.2', 9))
except BlockingIOError:
    pass
ports['synsent'] = syn.getsockname()[1]
keep.append(syn)
print('ready', os.getpid(), json.dumps(ports), flush=True)
sys.stdin.readline()
`;

interface SocketLine {
  type: string;
  state: string;
  saddr: string;
  sport: number;
  daddr: string;
  dport: number;
  rqueue: number;
  owners: { pid: number; comm: string; fd: number }[];
  tcpInfo?: { rttUs: number; unacked: number; lost: number; lastDataRecvMs: number; totalRetrans: number };
  congestion?: string;
}

describe('tcpsleuth sockets', () => {
  let ns: NetNamespace;
  let server: Peer;
  let client: Peer;
  let port: number;
  let clientPort: number;

  before(async () => {
    ns = await NetNamespace.create('tsl-t');
    port = testPort();
    server = await startPeer(ns, 'abort-server', [port]);
    client = await startPeer(ns, 'client', [port, 100]);
    clientPort = Number(client.ready[0]);
    await server.out.waitFor((l) => l.startsWith('accepted '), 5000, 'accept');
  });
  after(async () => {
    await client?.kill();
    await server?.kill();
    await ns?.destroy();
  });

  test('lists the listener and both ends of the connection over netlink, with their owners', async () => {
    const r = await runCli(['sockets', '--json', '--port', String(port)], ns);
    assert.equal(r.code, 0, r.stderr);
    const lines = jsonLines(r.stdout);
    const summary = lines.at(-1)!;
    assert.equal(summary['type'], 'summary');
    assert.equal(summary['source'], 'netlink');
    const sockets = lines.filter((l) => l['type'] === 'socket') as unknown as SocketLine[];
    const listen = sockets.find((s) => s.state === 'TCP_LISTEN');
    assert.ok(listen, JSON.stringify(sockets));
    assert.equal(listen.sport, port);
    assert.equal(listen.saddr, '127.0.0.1');
    assert.deepEqual(listen.owners.map((o) => o.pid), [server.pid]);
    const accepted = sockets.find((s) => s.state === 'TCP_ESTABLISHED' && s.sport === port);
    const connected = sockets.find((s) => s.state === 'TCP_ESTABLISHED' && s.sport === clientPort);
    assert.ok(accepted && connected, JSON.stringify(sockets));
    assert.equal(accepted.dport, clientPort);
    assert.deepEqual(accepted.owners.map((o) => o.pid), [server.pid]);
    assert.deepEqual(connected.owners.map((o) => o.pid), [client.pid]);
    assert.equal(accepted.rqueue, 100, 'the server never reads: the 100 bytes wait in its receive queue');
    assert.ok(accepted.tcpInfo !== undefined && connected.tcpInfo !== undefined);
    assert.ok(connected.tcpInfo.rttUs > 0);
    assert.equal(connected.tcpInfo.unacked, 0);
    assert.equal(connected.tcpInfo.lost, 0);
    assert.equal(typeof connected.congestion, 'string');
  });

  test('filters by state and pid', async () => {
    const r = await runCli(['sockets', '--json', '--state', 'listen', '--pid', String(server.pid)], ns);
    const sockets = jsonLines(r.stdout).filter((l) => l['type'] === 'socket') as unknown as SocketLine[];
    assert.deepEqual(sockets.map((s) => [s.state, s.sport]), [['TCP_LISTEN', port]]);
  });

  test('the /proc/net/tcp fallback sees the same sockets and says where they came from', async () => {
    const r = await runCli(['sockets', '--json', '--proc', '--port', String(port)], ns);
    const lines = jsonLines(r.stdout);
    assert.equal(lines.at(-1)!['source'], 'proc');
    const sockets = lines.filter((l) => l['type'] === 'socket') as unknown as SocketLine[];
    assert.deepEqual(sockets.map((s) => `${s.state} ${s.sport} ${s.dport} ${s.owners.map((o) => o.pid).join()}`).sort(), [
      `TCP_ESTABLISHED ${clientPort} ${port} ${client.pid}`,
      `TCP_ESTABLISHED ${port} ${clientPort} ${server.pid}`,
      `TCP_LISTEN ${port} 0 ${server.pid}`,
    ].sort());
  });

  test('the text table shows short state names and owners', async () => {
    const r = await runCli(['sockets', '--port', String(port)], ns);
    assert.match(r.stdout, new RegExp(`LISTEN +127\\.0\\.0\\.1:${port} +\\*.*node/${server.pid}/fd\\d+`));
    assert.match(r.stdout, /3 sockets from netlink sock_diag/);
  });
});

describe('sockets: numbers that mean something else in some states', () => {
  let ns: NetNamespace;
  let child: ReturnType<NetNamespace['spawn']>;
  let ports: Record<string, number>;
  let pid: number;
  before(async () => {
    ns = await NetNamespace.create('tsl-t');
    // A veth pair inside the namespace: nobody answers ARP for 10.77.0.2, so its SYN never leaves.
    await ns.run('ip', ['link', 'add', 'va', 'type', 'veth', 'peer', 'name', 'vb']);
    await ns.run('ip', ['addr', 'add', '10.77.0.1/24', 'dev', 'va']);
    await ns.run('ip', ['link', 'set', 'va', 'up']);
    await ns.run('ip', ['link', 'set', 'vb', 'up']);
    child = ns.spawn('python3', ['-c', STATES], { stdio: ['pipe', 'pipe', 'inherit'] });
    const out = new LineWatcher(child.stdout!, 'states');
    const line = await out.waitFor((l) => l.startsWith('ready '), 10_000, 'ready');
    pid = Number(line.split(' ')[1]);
    ports = JSON.parse(line.split(' ').slice(2).join(' ')) as Record<string, number>;
    await new Promise((r) => setTimeout(r, 200)); // the FINs are in
  });
  after(async () => {
    child?.kill('SIGKILL');
    await ns?.destroy();
  });

  test('RECV-Q is the unread bytes (no FIN), LISTEN and SYN-SENT show "-" where nothing was exchanged', async () => {
    const r = await runCli(['sockets'], ns);
    assert.equal(r.code, 0, r.stderr);
    const rows = r.stdout.split('\n').map((l) => l.split(/ +/));
    const head = rows[0]!;
    const col = (name: string): number => head.indexOf(name);
    const row = (pred: (cells: string[]) => boolean): string[] => {
      const found = rows.find(pred);
      assert.ok(found, r.stdout);
      return found;
    };
    const listen = row((c) => c[0] === 'LISTEN' && c[1] === `127.0.0.1:${ports['listen']}`);
    assert.equal(listen[col('RECV-Q')], '2', 'two connections wait in the accept queue');
    assert.equal(listen[col('SEND-Q')], '8', 'the backlog');
    for (const name of ['RTT', 'UNACK', 'LOST', 'LAST-RECV', 'LAST-SEND']) assert.equal(listen[col(name)], '-', `${name} of a listener: ${r.stdout}`);
    assert.match(r.stdout, /LISTEN: RECV-Q is the accept queue/);
    const syn = row((c) => c[0] === 'SYN-SENT' && c[1] === `10.77.0.1:${ports['synsent']}`);
    for (const name of ['RTT', 'LAST-RECV', 'LAST-SEND']) assert.equal(syn[col(name)], '-', `${name} of SYN-SENT: ${r.stdout}`);
    const cw0 = row((c) => c[0] === 'CLOSE-WAIT' && c[2] === `127.0.0.1:${ports['cw0']}`);
    const cw5 = row((c) => c[0] === 'CLOSE-WAIT' && c[2] === `127.0.0.1:${ports['cw5']}`);
    assert.equal(cw0[col('RECV-Q')], '0', `nothing unread (the kernel's rqueue counts the FIN as 1): ${r.stdout}`);
    assert.equal(cw5[col('RECV-Q')], '5');
    assert.equal(cw0[col('LAST-RECV')], '-', 'no data was received');

    const json = jsonLines((await runCli(['sockets', '--json', '--state', 'close-wait'], ns)).stdout).filter((l) => l['type'] === 'socket');
    const byPeer = new Map(json.map((s) => [s['dport'], s]));
    assert.deepEqual([byPeer.get(ports['cw0'])?.['rqueue'], byPeer.get(ports['cw0'])?.['unreadBytes']], [1, 0], 'JSON keeps the kernel\'s rqueue and adds unreadBytes');
    assert.equal(byPeer.get(ports['cw5'])?.['unreadBytes'], 5);

    const leaks = jsonLines((await runCli(['leaks', '--json', '--pid', String(pid)], ns)).stdout)[0] as { processes: { closeWait: { dport: number; unreadBytes: number }[] }[] };
    const unread = new Map(leaks.processes[0]!.closeWait.map((c) => [c.dport, c.unreadBytes]));
    assert.deepEqual([unread.get(ports['cw0']!), unread.get(ports['cw5']!)], [0, 5], 'leaks says the same');
  });
});

test('decoders: inet_diag_req_v2 layout and an inet_diag_msg with an IPv6 address', () => {
  const req = encodeInetDiagReqV2(10, 1 << 10);
  assert.equal(req.length, 56);
  assert.deepEqual([req[0], req[1], req[2]], [10, 6, 0b1010]);
  assert.equal(req.readUInt32LE(4), 1024);
  const msg = Buffer.alloc(72);
  msg[0] = 10;
  msg[1] = 8; // TCP_CLOSE_WAIT
  msg.writeUInt16BE(8080, 4);
  msg.writeUInt16BE(40000, 6);
  msg[8 + 15] = 1; // ::1
  Buffer.from('20010db8000000000000000000000005', 'hex').copy(msg, 24);
  msg.writeUInt32LE(12345, 68);
  const s = decodeInetDiagMsg(msg)!;
  assert.equal(s.state, 'TCP_CLOSE_WAIT');
  assert.equal(s.saddr, '::1');
  assert.equal(s.daddr, '2001:db8::5');
  assert.equal(s.inode, 12345);
  assert.equal(s.sport, 8080);
});

test('/proc/net/tcp6 parser', () => {
  const text = '  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n' +
    '   0: 00000000000000000000000001000000:1F90 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 4242 1 0000000000000000 100 0 0 10 0\n';
  const [s] = parseProcNetTcp(text, 'AF_INET6');
  assert.equal(s!.saddr, '::1');
  assert.equal(s!.sport, 8080);
  assert.equal(s!.state, 'TCP_LISTEN');
  assert.equal(s!.inode, 4242);
});
