/** RFC 1337 TIME_WAIT assassination: an RST kills a TIME_WAIT socket, unless tcp_rfc1337=1. */
import { buildTcpV4, TCP_FLAGS } from '../packet-craft.js';
import type { Scenario } from '../scenario.js';
import { accept, connected, startServer } from './steps.js';

export function timeWaitAssassination(rfc1337: boolean): Scenario {
  return {
    name: rfc1337 ? 'time-wait-assassination-rfc1337' : 'time-wait-assassination',
    title: rfc1337 ? 'TIME_WAIT assassination prevented (tcp_rfc1337=1)' : 'TIME_WAIT assassination (RFC 1337)',
    family: 4,
    sysctls: { 'net.ipv4.tcp_rfc1337': rfc1337 ? 1 : 0 },
    story: rfc1337
      ? 'The same experiment with net.ipv4.tcp_rfc1337=1: the old duplicate hits the TIME_WAIT socket, the socket answers with an ACK, the server host answers that with an RST (NO_SOCKET) — and the TIME_WAIT socket ignores the RST, as RFC 1337 recommends ("TIME-WAIT state removes the hazard"). It stays in TIME_WAIT until its timer runs out, protecting the next incarnation of the 4-tuple from old duplicates.'
      : 'The client closed first, so its socket sits in TIME_WAIT (2 MSL, 60 s on Linux) to absorb old duplicates. An old duplicate ACK from the server\'s address arrives (forged here through a raw socket). The TIME_WAIT socket answers with an ACK of its own; the server host, which has no socket for the 4-tuple any more, answers that with an RST (tcp_send_reset NO_SOCKET). With net.ipv4.tcp_rfc1337=0 (the default) the RST is accepted and kills the TIME_WAIT socket early: "TIME_WAIT assassination" (RFC 1337), which lets a new connection reuse the 4-tuple while old segments may still be in flight.',
    expect: {
      resets: [{ from: 'server', reason: 'NO_SOCKET' }],
      onlyTheseResets: true,
      calls: [
        { role: 'client', call: 'close', errno: null },
        { role: 'intruder', call: 'sendto', errno: null },
      ],
      drops: ['NO_SOCKET'],
    },
    async run(lab) {
      const server = await startServer(lab);
      const { client, port } = await connected(lab);
      await accept(server);
      await client.call('close', { sock: 'conn' });
      await server.call('recv', { sock: 'conn', timeoutMs: 1000 });
      await server.call('close', { sock: 'conn' });
      // The server host forgets the port entirely (the service stopped), so the TIME_WAIT socket's
      // ACK meets no socket at all: NO_SOCKET. With a listener still there it would be TCP_FLAGS.
      await server.call('close', { sock: 'listener' });
      await lab.waitSocket((s) => s.sport === port && s.state === 'TCP_TIME_WAIT', 'the client socket in TIME_WAIT');
      const intruder = await lab.peer('intruder');
      const dup = buildTcpV4({ src: lab.serverAddr, dst: lab.clientAddr, sport: lab.port, dport: port, seq: 0x10000000, ack: 0x20000000, flags: TCP_FLAGS.ACK });
      await intruder.call('raw', { sock: 'raw', dst: lab.clientAddr, hex: dup.toString('hex'), what: `old duplicate ACK ${lab.port}→${port}` });
      await lab.waitEvent((e) => e.event === 'tcp_send_reset' && e.sport === lab.port, 'the RST answering the TIME_WAIT socket\'s ACK');
      if (rfc1337) {
        const tw = (await lab.sockets()).find((s) => s.sport === port && s.state === 'TCP_TIME_WAIT');
        if (tw === undefined) throw new Error('the TIME_WAIT socket vanished although tcp_rfc1337=1');
        lab.observe('the client TIME_WAIT socket survived the RST (tcp_rfc1337=1)');
      } else {
        await lab.waitSocket((s) => s.sport === port && s.state === 'TCP_TIME_WAIT', 'the TIME_WAIT socket to be gone', { absent: true, timeoutMs: 2000 });
        lab.observe('the client TIME_WAIT socket is gone: assassinated by the RST');
      }
    },
  };
}
