/** Keepalive probes that nobody answers: the connection is aborted (TCP_KEEPALIVE_TIMEOUT), recv() → ETIMEDOUT. */
import type { Scenario } from '../scenario.js';
import { accept, connected, startServer } from './steps.js';

export const keepaliveTimeout: Scenario = {
  name: 'keepalive-timeout',
  title: 'keepalive timeout against a peer whose traffic is dropped',
  family: 4,
  story:
    'An idle connection with keepalive on (SO_KEEPALIVE, TCP_KEEPIDLE=1 s, TCP_KEEPINTVL=1 s, TCP_KEEPCNT=2). Then a firewall starts dropping everything the server sends — as when a NAT or a stateful firewall on the path forgets the connection. After one idle second the client sends a keepalive probe (an ACK one byte behind), gets no answer, probes again, and after TCP_KEEPCNT unanswered probes tcp_keepalive_timer() gives up: it sends an RST (tcp_send_reset TCP_KEEPALIVE_TIMEOUT) and sets ETIMEDOUT on the socket. The client blocked in recv() gets ETIMEDOUT ("Connection timed out"); the server, whose incoming traffic still flows, gets the RST and ECONNRESET.',
  expect: {
    resets: [{ from: 'client', reason: 'TCP_KEEPALIVE_TIMEOUT' }],
    onlyTheseResets: true,
    calls: [
      { role: 'client', call: 'recv', errno: 'ETIMEDOUT' },
      { role: 'server', call: 'recv', errno: 'ECONNRESET' },
    ],
    socketErrors: ['ETIMEDOUT', 'ECONNRESET'],
  },
  async run(lab) {
    const server = await startServer(lab);
    const { client } = await connected(lab, { sockopts: { SO_KEEPALIVE: 1, TCP_KEEPIDLE: 1, TCP_KEEPINTVL: 1, TCP_KEEPCNT: 2 } });
    await accept(server);
    await lab.nft(`table inet tsl_lab {\n  chain output { type filter hook output priority 0; tcp sport ${lab.port} drop; }\n}\n`);
    lab.note('nft: everything the server sends is dropped from now on');
    const serverRecv = server.begin('recv', { sock: 'conn', timeoutMs: 8000 });
    await client.call('recv', { sock: 'conn', timeoutMs: 8000 });
    await serverRecv;
  },
};
