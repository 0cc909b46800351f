/** Broken pipe vs connection reset: a write after the peer closed succeeds once, draws an RST, then fails with EPIPE. */
import type { Scenario } from '../scenario.js';
import { accept, connected, startServer } from './steps.js';

export const writeAfterPeerClose: Scenario = {
  name: 'write-after-peer-close',
  title: 'write after the peer closed: first write OK, RST, then EPIPE',
  family: 4,
  story:
    'The server closes its connection (FIN). The client does not notice — its socket sits in CLOSE_WAIT — and writes a request. The write succeeds: the bytes are queued and sent. But the server socket is gone: once the FIN was acknowledged, the orphaned socket became a FIN_WAIT2 timewait socket, and data for it is answered with an RST (tcp_send_reset TCP_TIMEWAIT_SOCKET). Rarely, when the FIN\'s ACK arrives while close() still holds the socket lock (the server process was preempted), the kernel keeps the full socket in FIN_WAIT2 instead and resets the data with TCP_ABORT_ON_DATA: same wire, same errnos. The RST sets EPIPE on the client socket (tcp_reset() in CLOSE_WAIT), so the second write fails with EPIPE — "Broken pipe", and SIGPIPE for a program that did not ignore it — while a read reports end of stream. The seed\'s lesson: the first write after the peer closed never fails; the second does.',
  expect: {
    resets: [{ from: 'server', reason: ['TCP_TIMEWAIT_SOCKET', 'TCP_ABORT_ON_DATA'] }],
    onlyTheseResets: true,
    calls: [
      { role: 'server', call: 'close', errno: null },
      { role: 'client', call: 'send', errno: null },
      { role: 'client', call: 'send', errno: 'EPIPE' },
    ],
    socketErrors: ['EPIPE'],
  },
  async run(lab) {
    const server = await startServer(lab);
    const { client, port } = await connected(lab);
    await accept(server);
    await server.call('close', { sock: 'conn' });
    await lab.waitSocket((s) => s.sport === port && s.state === 'TCP_CLOSE_WAIT', 'the client socket in CLOSE_WAIT');
    await lab.waitSocket((s) => s.sport === lab.port && s.dport === port && s.state === 'TCP_FIN_WAIT2', 'the server\'s FIN_WAIT2 timewait socket');
    await client.call('send', { sock: 'conn', text: 'request', bytes: 7 });
    await lab.waitEvent((e) => e.event === 'tcp_receive_reset' && e.sport === port, 'the RST reaching the client');
    await client.call('send', { sock: 'conn', text: 'request', bytes: 7 });
    await client.call('recv', { sock: 'conn', timeoutMs: 1000 });
  },
};
