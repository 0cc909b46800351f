/** Data sent to a peer that called shutdown(SHUT_RDWR) but kept the socket open. */
import type { Scenario } from '../scenario.js';
import { accept, connected, startServer } from './steps.js';

export const writeAfterShutdown: Scenario = {
  name: 'write-after-shutdown',
  title: "write after the peer's shutdown(SHUT_RDWR)",
  family: 4,
  story:
    'The server calls shutdown(SHUT_RDWR) but keeps the descriptor: it sends a FIN and declares it will read nothing more. Its socket moves to FIN_WAIT2 with RCV_SHUTDOWN set. The client, in CLOSE_WAIT, writes anyway. Data that arrives for a socket that shut down reading cannot be delivered, so the server aborts the connection and answers with an RST (tcp_rcv_state_process: the kernel counts TCPAbortOnData). The client\'s first write succeeded; after the RST its next write fails with EPIPE; the server\'s own recv() then reports the abort.',
  expect: {
    resets: [{ from: 'server', reason: 'TCP_ABORT_ON_DATA' }],
    onlyTheseResets: true,
    calls: [
      { role: 'server', call: 'shutdown', errno: null },
      { role: 'client', call: 'send', errno: null },
      { role: 'client', call: 'send', errno: 'EPIPE' },
    ],
  },
  async run(lab) {
    const server = await startServer(lab);
    const { client, port } = await connected(lab);
    await accept(server);
    await server.call('shutdown', { sock: 'conn', how: 'SHUT_RDWR' });
    await lab.waitSocket((s) => s.sport === lab.port && s.dport === port && s.state === 'TCP_FIN_WAIT2', 'the server socket in FIN_WAIT2');
    await client.call('send', { sock: 'conn', text: 'late data', bytes: 9 });
    await lab.waitEvent((e) => e.event === 'tcp_receive_reset' && e.sport === port, 'the RST reaching the client');
    await client.call('send', { sock: 'conn', text: 'late data', bytes: 9 });
    await server.call('recv', { sock: 'conn', timeoutMs: 1000 });
  },
};
