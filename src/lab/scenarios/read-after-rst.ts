/** Read after an RST: recv() → ECONNRESET once, then end of stream; send() → EPIPE. */
import type { Scenario } from '../scenario.js';
import { accept, connected, startServer } from './steps.js';

export const readAfterRst: Scenario = {
  name: 'read-after-rst',
  title: 'read after an RST: ECONNRESET once, then EOF and EPIPE',
  family: 4,
  story:
    'An idle, established connection; the server aborts it (SO_LINGER {1,0} and close: tcp_send_reset TCP_STATE). The RST reaches the client socket while nobody is reading: tcp_reset() records ECONNRESET in sk_err and closes the socket. The error is reported once: the next recv() fails with ECONNRESET ("Connection reset by peer"), the recv() after it returns 0 (end of stream), and a send() fails with EPIPE. Which call sees the reset depends on which comes first — the reason logs show "connection reset" on one request and "broken pipe" on the next.',
  expect: {
    resets: [{ from: 'server', reason: 'TCP_STATE', state: 'TCP_CLOSE' }],
    onlyTheseResets: true,
    calls: [
      { role: 'client', call: 'recv', errno: 'ECONNRESET' },
      { role: 'client', call: 'recv', errno: null },
      { role: 'client', call: 'send', errno: 'EPIPE' },
    ],
    socketErrors: ['ECONNRESET'],
  },
  async run(lab) {
    const server = await startServer(lab);
    const { client, port } = await connected(lab);
    await accept(server);
    await server.call('setsockopt', { sock: 'conn', opt: 'SO_LINGER', value: [1, 0] });
    await server.call('close', { sock: 'conn' });
    await lab.waitEvent((e) => e.event === 'tcp_receive_reset' && e.sport === port, 'the RST reaching the client');
    await client.call('recv', { sock: 'conn', timeoutMs: 1000 });
    await client.call('recv', { sock: 'conn', timeoutMs: 1000 });
    await client.call('send', { sock: 'conn', text: 'x', bytes: 1 });
  },
};
