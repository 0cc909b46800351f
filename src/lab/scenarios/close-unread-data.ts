/** The server closes a socket whose receive queue still holds data: RST (TCP_ABORT_ON_CLOSE), not FIN. */
import type { Scenario } from '../scenario.js';
import { accept, connected, startServer } from './steps.js';

export function closeUnreadData(family: 4 | 6): Scenario {
  return {
    name: family === 4 ? 'close-unread-data' : 'close-unread-data-ipv6',
    title: `close() with unread data${family === 6 ? ' (IPv6)' : ''}`,
    family,
    story:
      'The client sends a request; the server accepts the connection but closes it without reading the request. RFC 2525 §2.17: data that will never be read must not be acknowledged as if it were, so tcp_close() sends an RST instead of a FIN (tcp_send_reset TCP_ABORT_ON_CLOSE, the socket already in TCP_CLOSE). The client, waiting for the response, gets ECONNRESET ("Connection reset by peer") from recv(). The request was delivered and acknowledged, yet never processed: the classic cause of "connection reset" behind a proxy or a server that rejects early.',
    expect: {
      resets: [{ from: 'server', reason: 'TCP_ABORT_ON_CLOSE', state: 'TCP_CLOSE' }],
      onlyTheseResets: true,
      calls: [
        { role: 'client', call: 'send', errno: null },
        { role: 'server', call: 'close', errno: null },
        { role: 'client', call: 'recv', errno: 'ECONNRESET' },
      ],
      socketErrors: ['ECONNRESET'],
      connStates: ['RSTR'],
    },
    async run(lab) {
      const server = await startServer(lab);
      const { client, port } = await connected(lab);
      await accept(server);
      await client.call('send', { sock: 'conn', text: 'GET / HTTP/1.0\r\n\r\n', bytes: 18 });
      // The request must be in the server's receive queue (unread) before it closes.
      await lab.waitSocket((s) => s.sport === lab.port && s.dport === port && s.rqueue >= 18, 'the request in the server socket\'s receive queue');
      await server.call('close', { sock: 'conn' });
      await client.call('recv', { sock: 'conn', timeoutMs: 3000 });
    },
  };
}
