/** A path MTU black hole: packets over a size vanish on the way and no ICMP says why. */
import type { Scenario } from '../scenario.js';
import { accept, connected, startServer } from './steps.js';

export const mtuBlackHole: Scenario = {
  name: 'mtu-black-hole',
  title: 'path MTU black hole: small segments pass, the first large one never does',
  family: 4,
  story:
    'Between client and server, something drops every packet longer than 1000 bytes and sends no ICMP "fragmentation needed" back: a link with a smaller MTU behind a firewall that filters ICMP (played here by an nft rule on the server\'s input, after the capture point). The handshake and a 100-byte request get through, and the server answers. Then the client sends 4000 bytes: its kernel retransmits the first full-size segment with exponential backoff (tcp_retransmit_skb), never learns a smaller path MTU (net.ipv4.tcp_mtu_probing is 0), and the connection hangs. TCP_USER_TIMEOUT of 2000 ms makes tcp_write_timeout() give up after a few seconds instead of ~15 minutes: ETIMEDOUT, no RST.',
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
    await lab.nft(`table inet tsl_lab {\n  chain input { type filter hook input priority 0; tcp dport ${lab.port} ip length > 1000 drop; }\n}\n`);
    lab.note('nft: packets to the server longer than 1000 bytes are dropped, without ICMP');
    const server = await startServer(lab);
    const { client } = await connected(lab, { sockopts: { TCP_USER_TIMEOUT: 2000 } });
    await accept(server);
    await client.call('send', { sock: 'conn', text: 'q', bytes: 100 });
    await server.call('recv', { sock: 'conn', timeoutMs: 2000 });
    await server.call('send', { sock: 'conn', text: 'a', bytes: 60 });
    await client.call('recv', { sock: 'conn', timeoutMs: 2000 });
    await client.call('send', { sock: 'conn', text: 'u', bytes: 4000 });
    await client.call('recv', { sock: 'conn', timeoutMs: 8000 });
  },
};
