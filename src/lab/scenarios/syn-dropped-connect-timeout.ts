/** A firewall drops the SYN: connect() retries, then fails with ETIMEDOUT. */
import type { Scenario } from '../scenario.js';
import { dial, startServer } from './steps.js';

export const synDroppedConnectTimeout: Scenario = {
  name: 'syn-dropped-connect-timeout',
  title: 'SYN dropped by a firewall, connect() times out',
  family: 4,
  story:
    'A server listens, but an nft rule on its input drops every SYN to its port (policy "drop" rather than "reject"). The client sees nothing at all: no SYN-ACK, no RST, no ICMP. It retransmits the SYN after the initial RTO (1 s), and with TCP_SYNCNT=1 gives up after the second timeout: connect() fails with ETIMEDOUT ("Connection timed out"). The kernel sent no RST; it dropped the SYNs (kfree_skb NETFILTER_DROP) and retransmitted (tcp_retransmit_skb in SYN_SENT). In the capture: SYNs without answer (conn_state S0).',
  expect: {
    resets: [],
    onlyTheseResets: true,
    calls: [{ role: 'client', call: 'connect', errno: 'ETIMEDOUT' }],
    drops: ['NETFILTER_DROP'],
    socketErrors: ['ETIMEDOUT'],
    connStates: ['S0'],
  },
  async run(lab) {
    await startServer(lab);
    await lab.nft(`table inet tsl_lab {\n  chain input { type filter hook input priority 0; tcp dport ${lab.port} tcp flags syn drop; }\n}\n`);
    lab.note('nft: SYNs to the server port are dropped on input');
    await dial(lab, { sockopts: { TCP_SYNCNT: 1 }, timeoutMs: 8000 });
  },
};
