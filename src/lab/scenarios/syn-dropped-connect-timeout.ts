/** A firewall drops the SYN: connect() retries, then fails with ETIMEDOUT. */
import type { Scenario } from '../scenario.js';
import { dial, startServer } from './steps.js';

export const synDroppedConnectTimeout: Scenario = {
  name: 'syn-dropped-connect-timeout',
  title: 'SYN dropped by a firewall, connect() times out',
  family: 4,
  story:
    'A server listens, but an nft rule on its input drops every SYN to its port (policy "drop" rather than "reject"). The client sees nothing at all: no SYN-ACK, no RST, no ICMP. TCP_SYNCNT=1 does not count SYNs: the kernel turns it into a time budget, the time one retransmission with exponential backoff would take (tcp_model_timeout: 1 s + 2 s = 3 s after the first SYN). Within that budget, the retransmission timeouts of a SYN stay at the initial 1 s for the first net.ipv4.tcp_syn_linear_timeouts (4 by default on 6.18, not set by the lab) instead of doubling, so the SYN goes out three times — at 0, 1 and 2 s — and connect() fails with ETIMEDOUT ("Connection timed out") about 3 s after the first. (A kernel without linear SYN timeouts sends two SYNs, at 0 and 1 s, and gives up at the same 3 s.) The kernel sent no RST; it dropped the SYNs (kfree_skb NETFILTER_DROP; the lab attributes only the first to the run, as the retransmissions leave from a timer, in no task of the namespace) and retransmitted (tcp_retransmit_skb in SYN_SENT, twice). In the capture: SYNs without answer (conn_state S0).',
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
