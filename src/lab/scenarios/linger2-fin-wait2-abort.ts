/** TCP_LINGER2 < 0: closing a socket in FIN_WAIT2 aborts it with an RST (TCP_ABORT_ON_LINGER). */
import type { Scenario } from '../scenario.js';
import { accept, connected, startServer } from './steps.js';

export const linger2FinWait2Abort: Scenario = {
  name: 'linger2-fin-wait2-abort',
  title: 'TCP_LINGER2 = -1: close() in FIN_WAIT2 aborts with RST',
  family: 4,
  story:
    'The client sets TCP_LINGER2 to -1 (no FIN_WAIT2 lifetime at all), half-closes with shutdown(SHUT_WR) and waits until the server acknowledged the FIN: its socket is in FIN_WAIT2, the server\'s in CLOSE_WAIT. When the client then close()s, tcp_close() finds FIN_WAIT2 with a negative linger2 and, instead of waiting for the server\'s FIN, moves to TCP_CLOSE and sends an RST (tcp_send_reset TCP_ABORT_ON_LINGER; the kernel counts TCPAbortOnLinger). The server read the end of stream (recv() = 0) but still had something to say: its send() after the RST fails with EPIPE.',
  expect: {
    resets: [{ from: 'client', reason: 'TCP_ABORT_ON_LINGER', state: 'TCP_CLOSE' }],
    onlyTheseResets: true,
    calls: [
      { role: 'client', call: 'setsockopt', errno: null },
      { role: 'server', call: 'recv', errno: null },
      { role: 'server', call: 'send', errno: 'EPIPE' },
    ],
    socketErrors: ['EPIPE'],
  },
  async run(lab) {
    const server = await startServer(lab);
    const { client, port } = await connected(lab, { sockopts: { TCP_LINGER2: -1 } });
    await accept(server);
    await client.call('shutdown', { sock: 'conn', how: 'SHUT_WR' });
    await lab.waitSocket((s) => s.sport === port && s.state === 'TCP_FIN_WAIT2', 'the client socket in FIN_WAIT2');
    await server.call('recv', { sock: 'conn', timeoutMs: 1000 });
    await client.call('close', { sock: 'conn' });
    await lab.waitEvent((e) => e.event === 'tcp_receive_reset' && e.sport === lab.port, 'the RST reaching the server');
    await server.call('send', { sock: 'conn', text: 'late reply', bytes: 10 });
  },
};
