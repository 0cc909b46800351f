/** A receiver that stops reading: its window closes, the sender probes and stalls (EAGAIN). */
import type { Scenario } from '../scenario.js';
import { accept, connected, startServer } from './steps.js';

export const zeroWindow: Scenario = {
  name: 'zero-window',
  title: 'zero-window stall: a receiver that stops reading',
  family: 4,
  story:
    'The server accepts a connection and never reads (a stuck worker, a full disk behind it). Its receive buffer (SO_RCVBUF 4 KiB here) fills, the window it advertises shrinks to zero, and the client can send no more: its send buffer fills too, and a non-blocking send() fails with EAGAIN. Nothing is lost and nothing is reset: the client\'s persist timer sends zero-window probes at growing intervals, the server keeps answering with window 0, and the connection stalls — possibly forever, unless the application or TCP_USER_TIMEOUT gives up. In the capture: the server\'s window-0 ACKs (Zeek history W) and the client\'s probes.',
  expect: {
    resets: [],
    onlyTheseResets: true,
    calls: [{ role: 'client', call: 'send', errno: 'EAGAIN' }],
    // Zeek history: w = the responder advertised a zero window.
    histories: ['w'],
    connStates: ['S1'],
  },
  async run(lab) {
    const server = await startServer(lab, { sockopts: { SO_RCVBUF: 4096 } });
    const { client, port } = await connected(lab, { sockopts: { SO_SNDBUF: 16384 } });
    await accept(server);
    await client.call('fill', { sock: 'conn', timeoutMs: 3000, settleMs: 300 });
    // The client's persist timer (timer 4 in /proc/net/tcp) is armed: it is probing the closed window.
    await lab.waitSocket((s) => s.sport === port && s.timer === 'zero_window_probe' && s.wqueue > 0, 'the persist timer of the client', { timeoutMs: 5000 });
  },
};
