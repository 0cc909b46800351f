/** A SYN meets a full accept queue: the listener drops it, and connect() succeeds when a resent SYN finds room. */
import type { Scenario } from '../scenario.js';
import { accept, connected, dial, sock, startServer } from './steps.js';

export const acceptQueueSlowConnect: Scenario = {
  name: 'accept-queue-slow-connect',
  title: 'a full accept queue drops a SYN: connect() succeeds a second late',
  family: 4,
  story:
    'A server listens with backlog 0 (room for one connection that accept() has not taken) and is slow to accept. Client B connects and waits in the accept queue. Client C connects: its SYN finds the queue full, and the listener drops it without an answer (tcp_conn_request counts ListenOverflows and ListenDrops; no RST, no ICMP, nothing on the wire). Then the server accept()s B. C\'s kernel resends the SYN when its 1 s timer fires; now there is room, the handshake completes, and C\'s connect() succeeds, a second late. No error anywhere: under load, connects that take 1, 3 or 7 s are this. In the capture: two SYNs with the same initial sequence number, the second answered.',
  expect: {
    resets: [],
    onlyTheseResets: true,
    calls: [
      { role: 'client-c', call: 'connect', errno: null },
      { role: 'server', call: 'accept', errno: null },
    ],
  },
  async run(lab) {
    const server = await startServer(lab, { backlog: 0 });
    await connected(lab, { role: 'client-b' });
    await lab.waitSocket((s) => s.sport === lab.port && s.state === 'TCP_LISTEN' && s.rqueue >= 1, 'client B waiting in the accept queue');
    const c = dial(lab, { role: 'client-c', timeoutMs: 8000 });
    await lab.waitSocket((s) => s.dport === lab.port && s.state === 'TCP_SYN_SENT', "client C's SYN, dropped by the full queue");
    // C's first SYN has reached the listener (loopback delivers it at once); make room before its 1 s timer.
    await new Promise((r) => setTimeout(r, 200));
    await accept(server, 'b');
    const d = await c;
    if (d.connect.errno !== null) throw new Error(`client C could not connect: ${d.connect.errno}`);
    await lab.waitSocket(sock(lab.port, 'TCP_ESTABLISHED', d.port), "client C's connection on the server");
    await accept(server, 'c');
  },
};
