/**
 * The seed's fd-leak experiment: a server that never closes, two ephemeral ports, clients that
 * reconnect until a SYN lands on a port whose old connection is still in CLOSE_WAIT.
 */
import type { Scenario } from '../scenario.js';
import { accept, dial, startServer } from './steps.js';

const LOW = 40000;
const HIGH = 40001;

export const closeWaitPortReuse: Scenario = {
  name: 'close-wait-port-reuse',
  title: 'fd leak: a SYN lands on a port whose old connection is in CLOSE_WAIT',
  family: 4,
  sysctls: { 'net.ipv4.ip_local_port_range': `${LOW} ${HIGH}`, 'net.ipv4.tcp_tw_reuse': 0 },
  story:
    'The seed\'s socket-leak experiment. The server accept()s and never close()s: every connection the client ends stays in CLOSE_WAIT on the server, holding a file descriptor. The client side has only two ephemeral ports (ip_local_port_range 40000-40001) and sets TCP_LINGER2=1, so its half of each closed connection lingers one second in FIN_WAIT2. Two connections use both ports; the third connect() fails at once with EADDRNOTAVAIL. A second later a port is free again on the client — but not on the server. The next SYN reaches the CLOSE_WAIT socket of the old connection, which answers with an ACK for the old sequence space (a challenge ACK). The client in SYN_SENT sees an ACK that does not acknowledge its SYN and answers with an RST (tcp_send_reset TCP_INVALID_ACK_SEQUENCE, tcp_rcv_synsent_state_process, RFC 793), which resets the stale server socket. The client does not wait for its RTO (1 s): on an unacceptable ACK in SYN_SENT the kernel rearms the retransmission timer to TCP_TIMEOUT_MIN (a couple of jiffies), so the SYN is retransmitted about 10 ms after the RST (tcp_retransmit_skb) and, the old socket gone, succeeds (the seed saw about a second, three on its older kernel). The leaked descriptor stays, now for a reset socket: the server\'s recv() on it still returns 0 (the old FIN), and its send() fails with EPIPE, the error tcp_reset() gives a socket in CLOSE_WAIT.',
  expect: {
    resets: [{ from: 'client', reason: 'TCP_INVALID_ACK_SEQUENCE', state: 'TCP_SYN_SENT' }],
    onlyTheseResets: true,
    calls: [
      { role: 'client', call: 'connect', errno: 'EADDRNOTAVAIL' },
      { role: 'client', call: 'connect', errno: null },
      { role: 'server', call: 'recv', errno: null },
      { role: 'server', call: 'send', errno: 'EPIPE' },
    ],
    socketErrors: ['EPIPE'],
  },
  async run(lab) {
    const server = await startServer(lab);
    const client = await lab.peer('client');
    const used: number[] = [];
    for (const name of ['c1', 'c2']) {
      const d = await dial(lab, { peer: client, sock: name, sockopts: { TCP_LINGER2: 1 } });
      if (d.connect.errno !== null) throw new Error(`connect ${name}: ${d.connect.errno}`);
      used.push(d.port);
      await accept(server, `s${name.slice(1)}`);
      await client.call('close', { sock: name });
      await lab.waitSocket((s) => s.sport === lab.port && s.dport === d.port && s.state === 'TCP_CLOSE_WAIT', `the server's CLOSE_WAIT socket for port ${d.port}`);
    }
    lab.observe(`ports ${used.join(' and ')} are in FIN_WAIT2 on the client and in CLOSE_WAIT on the server`);
    const none = await dial(lab, { peer: client, sock: 'c3', sockopts: { TCP_LINGER2: 1 } });
    if (none.connect.errno !== 'EADDRNOTAVAIL') throw new Error(`expected EADDRNOTAVAIL with both ports busy, got ${none.connect.errno ?? 'success'}`);
    // Wait until both client ports left FIN_WAIT2 (TCP_LINGER2 = 1 s; they were closed 20 ms apart):
    // whichever port connect() picks now, the server still holds it in CLOSE_WAIT.
    await lab.waitSocket((s) => used.includes(s.sport) && s.dport === lab.port && s.daddr === lab.serverAddr, 'the client ports to be released', { absent: true, timeoutMs: 5000 });
    const again = await dial(lab, { peer: client, sock: 'c4', timeoutMs: 8000 });
    if (!used.includes(again.port)) throw new Error(`the new connection used port ${again.port}, not one of ${used.join(', ')}`);
    // The leaked socket was reset under the server's feet: a read still returns the old FIN (0),
    // the next write reports the reset as EPIPE.
    const leaked = `s${used.indexOf(again.port) + 1}`;
    await server.call('recv', { sock: leaked, timeoutMs: 1000 });
    await server.call('send', { sock: leaked, text: 'too late', bytes: 8 });
  },
};
