/** Half-open: the server forgot the connection without telling the client; the client's next segment draws NO_SOCKET. */
import type { Scenario } from '../scenario.js';
import { accept, connected, startServer } from './steps.js';

export const halfOpen: Scenario = {
  name: 'half-open',
  title: 'half-open connection after the peer vanished',
  family: 4,
  story:
    'The server side of an established connection disappears without a trace — as when the host reboots or a middlebox loses its state: here the server aborts its socket (SO_LINGER {1,0}: tcp_send_reset TCP_STATE) while a firewall drops that RST, so the client never learns of it. The client still believes in the connection (ESTABLISHED, "half-open"). When it next sends, the segment reaches a host with no connection for it. The server still listens on the port, so the segment is handed to the listening socket, which answers an unexpected ACK with an RST (tcp_send_reset TCP_FLAGS, in state LISTEN; with nothing listening it would be NO_SOCKET). The client\'s send() had succeeded; its following recv() fails with ECONNRESET.',
  expect: {
    resets: [
      { from: 'server', reason: 'TCP_STATE' },
      // Not NO_SOCKET: the port still has a listener, and an ACK for a connection a listener does
      // not know is answered by the listener itself (tcp_rcv_state_process in LISTEN).
      { from: 'server', reason: 'TCP_FLAGS', state: 'TCP_LISTEN' },
    ],
    onlyTheseResets: true,
    calls: [
      { role: 'client', call: 'send', errno: null },
      { role: 'client', call: 'recv', errno: 'ECONNRESET' },
    ],
    socketErrors: ['ECONNRESET'],
  },
  async run(lab) {
    const server = await startServer(lab);
    const { client } = await connected(lab);
    await accept(server);
    await lab.nft(`table inet tsl_lab {\n  chain output { type filter hook output priority 0; tcp sport ${lab.port} tcp flags rst drop; }\n}\n`);
    lab.note("nft: the server's RSTs are dropped");
    await server.call('setsockopt', { sock: 'conn', opt: 'SO_LINGER', value: [1, 0] });
    await server.call('close', { sock: 'conn' });
    await lab.nft('delete table inet tsl_lab\n');
    lab.note('nft: rule removed; the client still believes in the connection');
    await client.call('send', { sock: 'conn', text: 'are you there?', bytes: 14 });
    await client.call('recv', { sock: 'conn', timeoutMs: 3000 });
  },
};
