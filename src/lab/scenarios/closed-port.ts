/** connect() to a port nobody listens on: the kernel answers the SYN with RST (NO_SOCKET). */
import type { Scenario } from '../scenario.js';
import { dial } from './steps.js';

export function closedPort(family: 4 | 6): Scenario {
  return {
    name: family === 4 ? 'closed-port' : 'closed-port-ipv6',
    title: `connect() to a closed port${family === 6 ? ' (IPv6)' : ''}`,
    family,
    story:
      'A client connects to a port on which no socket listens. The SYN reaches the server host, tcp_v4_rcv/tcp_v6_rcv finds no socket for it, drops it (kfree_skb NO_SOCKET) and answers with an RST that acknowledges the SYN (tcp_send_reset reason NO_SOCKET, sent with no socket, so no TCP state). The client socket in SYN_SENT accepts the RST and its connect() fails with ECONNREFUSED ("Connection refused"). On the wire: S, then R. (the conn_state REJ).',
    expect: {
      resets: [{ from: 'server', reason: 'NO_SOCKET', state: null }],
      onlyTheseResets: true,
      calls: [{ role: 'client', call: 'connect', errno: 'ECONNREFUSED' }],
      drops: ['NO_SOCKET'],
      socketErrors: ['ECONNREFUSED'],
      connStates: ['REJ'],
    },
    async run(lab) {
      await dial(lab);
    },
  };
}
