/** nft `reject with tcp reset`: an RST that the TCP stack never sent. */
import type { Scenario } from '../scenario.js';
import { dial, startServer } from './steps.js';

export const firewallReset: Scenario = {
  name: 'firewall-reset',
  title: 'a firewall resets instead of the stack (nft reject with tcp reset)',
  family: 4,
  story:
    'A server listens, but an nft rule rejects connections to its port "with tcp reset". The client\'s connect() fails with ECONNREFUSED, exactly as for a closed port — yet no socket sent that RST: netfilter built it (nf_send_reset) and dropped the SYN (kfree_skb NETFILTER_DROP), so the tcp_send_reset tracepoint stays silent. On the wire the RST looks like the server\'s own: netfilter copies what the stack would do — TTL 64, IP id 0, DF, window 0, ack = the SYN\'s sequence + 1 — so TTL, IP id and window tell nothing here. The one difference in a capture taken on this host is the TCP checksum: netfilter leaves it to checksum offload, so tcpdump shows it "incorrect" (incomplete), where the stack\'s own RST for a closed port carries a complete one. Over IPv6, or in a capture taken elsewhere, not even that remains: telling the two apart needs the kernel\'s view.',
  expect: {
    resets: [{ from: 'server', reason: null }],
    onlyTheseResets: true,
    calls: [{ role: 'client', call: 'connect', errno: 'ECONNREFUSED' }],
    drops: ['NETFILTER_DROP'],
    socketErrors: ['ECONNREFUSED'],
    connStates: ['REJ'],
  },
  async run(lab) {
    await startServer(lab);
    await lab.nft(`table inet tsl_lab {\n  chain input { type filter hook input priority 0; tcp dport ${lab.port} reject with tcp reset; }\n}\n`);
    lab.note('nft: connections to the server port are rejected with tcp reset');
    await dial(lab);
  },
};
