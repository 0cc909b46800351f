/** SO_LINGER {1, 0}: close() aborts the connection with an RST (TCP_STATE from tcp_disconnect). */
import type { Scenario } from '../scenario.js';
import { accept, connected, startServer } from './steps.js';

export const lingerZeroAbort: Scenario = {
  name: 'linger-zero-abort',
  title: 'SO_LINGER {1, 0}: close() aborts with RST',
  family: 4,
  story:
    'A client sets SO_LINGER to {l_onoff=1, l_linger=0} — what connection pools and load generators do to avoid TIME_WAIT — and closes. tcp_close() sees a zero linger time and calls tcp_disconnect(), which moves the socket to TCP_CLOSE and sends an RST (tcp_send_reset reason TCP_STATE: the state required a reset). No FIN, no TIME_WAIT. The server, blocked in recv(), gets ECONNRESET: from its side the client "reset the connection", although nothing went wrong.',
  expect: {
    resets: [{ from: 'client', reason: 'TCP_STATE', state: 'TCP_CLOSE' }],
    onlyTheseResets: true,
    calls: [
      { role: 'client', call: 'setsockopt', errno: null },
      { role: 'client', call: 'close', errno: null },
      { role: 'server', call: 'recv', errno: 'ECONNRESET' },
    ],
    socketErrors: ['ECONNRESET'],
    connStates: ['RSTO'],
  },
  async run(lab) {
    const server = await startServer(lab);
    const { client } = await connected(lab);
    await accept(server);
    const blocked = server.begin('recv', { sock: 'conn', timeoutMs: 5000 });
    await client.call('setsockopt', { sock: 'conn', opt: 'SO_LINGER', value: [1, 0] });
    await client.call('close', { sock: 'conn' });
    await blocked;
  },
};
