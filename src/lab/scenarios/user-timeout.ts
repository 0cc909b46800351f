/** TCP_USER_TIMEOUT: unacknowledged data for longer than the timeout aborts the connection with ETIMEDOUT. */
import type { Scenario } from '../scenario.js';
import { accept, connected, startServer } from './steps.js';

export const userTimeout: Scenario = {
  name: 'user-timeout',
  title: 'data retransmission timeout with TCP_USER_TIMEOUT',
  family: 4,
  story:
    'An established connection whose client set TCP_USER_TIMEOUT to 1000 ms (RFC 5482: how long sent data may stay unacknowledged). A firewall starts dropping the client\'s segments to the server. The client sends a request; it is retransmitted with exponential backoff (tcp_retransmit_skb), and once the oldest unacknowledged byte is older than the user timeout, tcp_write_timeout() aborts the connection: ETIMEDOUT on the socket, no RST (the kernel simply forgets the connection). Without TCP_USER_TIMEOUT the same would take tcp_retries2 (15 retransmissions, about 15 minutes).',
  expect: {
    resets: [],
    onlyTheseResets: true,
    calls: [
      { role: 'client', call: 'send', errno: null },
      { role: 'client', call: 'recv', errno: 'ETIMEDOUT' },
    ],
    drops: ['NETFILTER_DROP'],
    socketErrors: ['ETIMEDOUT'],
  },
  async run(lab) {
    const server = await startServer(lab);
    const { client } = await connected(lab, { sockopts: { TCP_USER_TIMEOUT: 1000 } });
    await accept(server);
    await lab.nft(`table inet tsl_lab {\n  chain input { type filter hook input priority 0; tcp dport ${lab.port} drop; }\n}\n`);
    lab.note('nft: everything the client sends to the server is dropped from now on');
    await client.call('send', { sock: 'conn', text: 'request', bytes: 7 });
    await client.call('recv', { sock: 'conn', timeoutMs: 8000 });
  },
};
