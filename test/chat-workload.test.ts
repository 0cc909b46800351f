/**
 * The lab's chat workload: every scenario with real processes, on loopback and in a namespace,
 * ending the way it says it does.
 */
import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { ChatWorkload } from '../src/chat/workload.js';
import { NetNamespace } from '../src/lab/netns.js';
import { CHAT_CLI } from './helpers/chat-util.js';

const chatCommand = [process.execPath, ...CHAT_CLI];

describe('ChatWorkload', () => {
  let w: ChatWorkload | null = null;
  let ns: NetNamespace | null = null;
  afterEach(async () => {
    await w?.stop();
    w = null;
    await ns?.destroy();
    ns = null;
  });

  it('runs a normal conversation that ends with /quit and FIN for everyone', async () => {
    w = await ChatWorkload.start({ chatCommand });
    const { lines } = await w.normalChat(['alice', 'bob', 'carol'], 2);
    assert.equal(lines, 6);
    for (const c of w.clients) assert.deepEqual(await c.end(), { reason: 'closed' });
  });

  it('kills a client mid-message with unread data: the server sees RST (ECONNRESET)', async () => {
    w = await ChatWorkload.start({ chatCommand });
    const r = await w.killMidMessage({ unreadData: true });
    assert.equal(r.expected, 'RST');
    assert.equal(r.serverSaw, 'reset', r.logLine);
    assert.match(r.logLine, /unfinished line of 23 B was discarded/);
  });

  it('kills a client mid-message with nothing unread: the server sees FIN', async () => {
    w = await ChatWorkload.start({ chatCommand });
    const r = await w.killMidMessage({ unreadData: false });
    assert.equal(r.expected, 'FIN');
    assert.equal(r.serverSaw, 'closed', r.logLine);
  });

  it('freezes a reader: it is evicted while another client receives every line in order', async () => {
    w = await ChatWorkload.start({ chatCommand, serverArgs: ['--queue-bytes', '65536'] });
    const r = await w.frozenReader();
    assert.equal(r.othersComplete, true);
    assert.match(r.logLine, /not reading/);
    assert.ok(r.linesSent > 0);
  });

  it('runs inside a network namespace', async () => {
    ns = await NetNamespace.create('tsl-t');
    w = await ChatWorkload.start({ chatCommand, netns: ns });
    await w.normalChat(['x', 'y'], 1);
    const r = await w.killMidMessage({ unreadData: true });
    assert.equal(r.serverSaw, 'reset', r.logLine);
  });
});
