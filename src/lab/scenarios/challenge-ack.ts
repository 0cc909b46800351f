/** RFC 5961 §4: a SYN for an established connection gets a challenge ACK, not a reset. */
import { buildTcpV4, TCP_FLAGS } from '../packet-craft.js';
import type { Scenario } from '../scenario.js';
import { accept, connected, startServer } from './steps.js';

export const challengeAck: Scenario = {
  name: 'challenge-ack',
  title: 'challenge ACK (RFC 5961) for a SYN on an established connection',
  family: 4,
  story:
    'A SYN arrives for a connection that is already established, with the same 4-tuple — a client that restarted and reused its port, or an off-path attacker guessing. Before RFC 5961 a SYN in the window reset the connection; Linux instead answers with a "challenge ACK" carrying its current sequence numbers (tcp_send_challenge_ack) and drops the SYN. A restarted client, having no connection, would answer the challenge ACK with an RST and retry; here the real client socket is alive, takes the ACK as a duplicate, and the connection survives: the data sent afterwards is delivered.',
  expect: {
    resets: [],
    onlyTheseResets: true,
    calls: [
      { role: 'intruder', call: 'sendto', errno: null },
      { role: 'client', call: 'send', errno: null },
      { role: 'server', call: 'recv', errno: null },
    ],
    drops: ['TCP_INVALID_SYN'],
  },
  async run(lab) {
    const server = await startServer(lab);
    const { client, port } = await connected(lab);
    await accept(server);
    const intruder = await lab.peer('intruder');
    const syn = buildTcpV4({ src: lab.clientAddr, dst: lab.serverAddr, sport: port, dport: lab.port, seq: 0x12345678, ack: 0, flags: TCP_FLAGS.SYN });
    await intruder.call('raw', { sock: 'raw', dst: lab.serverAddr, hex: syn.toString('hex'), what: `SYN for the established ${port}→${lab.port}` });
    await lab.waitEvent((e) => e.event === 'kfree_skb' && e.reason !== null && /SYN/.test(e.reason), 'the SYN being dropped');
    await client.call('send', { sock: 'conn', text: 'still here', bytes: 10 });
    await server.call('recv', { sock: 'conn', timeoutMs: 2000 });
  },
};
