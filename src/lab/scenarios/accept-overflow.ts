/** The accept queue is full when a handshake completes: the final ACK is dropped, or answered with RST (tcp_abort_on_overflow). */
import type { Scenario } from '../scenario.js';
import { accept, connected, startServer } from './steps.js';

export function acceptOverflow(abort: boolean): Scenario {
  return {
    name: abort ? 'accept-overflow-abort' : 'accept-overflow',
    title: abort ? 'accept-queue overflow with tcp_abort_on_overflow=1' : 'accept-queue overflow (tcp_abort_on_overflow=0)',
    family: 4,
    sysctls: { 'net.ipv4.tcp_abort_on_overflow': abort ? 1 : 0 },
    story: abort
      ? 'The same overflow with net.ipv4.tcp_abort_on_overflow=1: when client A\'s segment completes its handshake while the accept queue is full, the listener does not keep the request for later but resets it (tcp_send_reset INVALID_SYN from the listening socket: tcp_check_req() uses that reason for every embryonic reset on 6.18). Client A, which believed it was connected (connect() had succeeded, its send() too), gets an RST from the server\'s listening port and recv() fails with ECONNRESET. Useful for seeing overload early; harmful for a short burst that the queue would have absorbed a moment later.'
      : 'A server listens with backlog 0 (room for one connection that accept() has not taken yet) and is slow to accept. Client A completes its handshake — from A\'s point of view: its final ACK is lost (dropped here by an nft rule), so A is ESTABLISHED while the server still holds only a request socket. Client B connects and fills the accept queue. Then A sends its request: the segment completes A\'s handshake on the server, but the accept queue is full, so tcp_check_req() drops it (kfree_skb TCP_LISTEN_OVERFLOW, the kernel counts ListenOverflows) and keeps the request socket. No RST, no error: A\'s data is retransmitted, and once the server accept()s B, A\'s retransmission gets through and A is accepted too — late, but unharmed.',
    expect: abort
      ? {
          // tcp_check_req() resets every embryonic connection it gives up on with INVALID_SYN,
          // overflow included; the event carries the listener (state LISTEN).
          resets: [{ from: 'server', reason: 'INVALID_SYN', state: 'TCP_LISTEN' }],
          onlyTheseResets: true,
          calls: [
            { role: 'client-a', call: 'connect', errno: null },
            { role: 'client-a', call: 'send', errno: null },
            { role: 'client-a', call: 'recv', errno: 'ECONNRESET' },
          ],
          drops: ['TCP_LISTEN_OVERFLOW'],
          socketErrors: ['ECONNRESET'],
        }
      : {
          resets: [],
          onlyTheseResets: true,
          calls: [
            { role: 'client-a', call: 'connect', errno: null },
            { role: 'client-a', call: 'send', errno: null },
            { role: 'server', call: 'accept', errno: null },
            { role: 'server', call: 'recv', errno: null },
          ],
          drops: ['TCP_LISTEN_OVERFLOW'],
        },
    async run(lab) {
      const server = await startServer(lab, { backlog: 0 });
      const aPort = lab.port + 10000;
      // Only A's pure ACK (the end of its handshake) is dropped; its data segments pass.
      await lab.nft(`table inet tsl_lab {\n  chain output { type filter hook output priority 0; tcp sport ${aPort} tcp flags == ack drop; }\n}\n`);
      lab.note(`nft: client A's handshake ACK is dropped`);
      const a = await connected(lab, { role: 'client-a', bindPort: aPort });
      await lab.waitEvent((e) => e.event === 'kfree_skb' && e.reason === 'NETFILTER_DROP', "client A's ACK being dropped").catch(() => null);
      await lab.nft('delete table inet tsl_lab\n');
      await connected(lab, { role: 'client-b' });
      await lab.waitSocket((s) => s.sport === lab.port && s.state === 'TCP_LISTEN' && s.rqueue >= 1, 'client B waiting in the accept queue');
      await a.client.call('send', { sock: 'conn', text: 'request from A', bytes: 14 });
      await lab.waitEvent((e) => e.event === 'kfree_skb' && e.reason === 'TCP_LISTEN_OVERFLOW', 'the accept-queue overflow', 3000).catch(() => null);
      if (abort) {
        await a.client.call('recv', { sock: 'conn', timeoutMs: 3000 });
      } else {
        await accept(server, 'b');
        await accept(server, 'a');
        await server.call('recv', { sock: 'a', timeoutMs: 3000 });
      }
    },
  };
}
