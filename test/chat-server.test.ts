/**
 * `tcpsleuth chat serve` as a real process on loopback, with real clients: raw sockets (what nc
 * does), ncat processes, and ncat processes frozen with SIGSTOP.
 */
import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { after, afterEach, describe, it } from 'node:test';
import { LineLog, RawClient, startServer, within, type ServerProcess } from './helpers/chat-util.js';

let server: ServerProcess | null = null;
const clients: RawClient[] = [];
const procs: ChildProcess[] = [];

afterEach(async () => {
  for (const c of clients.splice(0)) c.destroy();
  for (const p of procs.splice(0)) {
    if (p.exitCode === null && p.signalCode === null) {
      p.kill('SIGCONT');
      p.kill('SIGKILL');
      await within(new Promise((r) => p.once('exit', r)), 5000, 'ncat did not exit');
    }
  }
  await server?.kill();
  server = null;
});
after(() => {
  for (const c of clients) c.destroy();
});

async function serve(extra: string[] = []): Promise<ServerProcess> {
  server = await startServer(extra);
  return server;
}

async function join(port: number, nick: string): Promise<RawClient> {
  const c = await RawClient.join(port, nick);
  clients.push(c);
  return c;
}

function raw(port: number): RawClient {
  const c = new RawClient(port);
  clients.push(c);
  return c;
}

/** ncat as a chat client: its stdin is what the user types, its stdout what they see. */
function ncat(port: number): { proc: ChildProcess; out: LineLog; type: (s: string) => void } {
  const proc = spawn('ncat', ['127.0.0.1', String(port)], { stdio: ['pipe', 'pipe', 'pipe'] });
  procs.push(proc);
  proc.stdin!.on('error', () => undefined);
  return { proc, out: LineLog.ofStream(proc.stdout!), type: (s) => proc.stdin!.write(s) };
}

describe('chat serve', () => {
  it('relays between three clients, in one order, tagged, without echoing the author', async () => {
    const s = await serve();
    const alice = await join(s.port, 'alice');
    const bob = await join(s.port, 'bob');
    const carol = await join(s.port, 'carol');
    await alice.wait((l) => /^\*\*\* carol joined from 127\.0\.0\.1 \(3 here\)$/.test(l), 'carol joining');
    alice.send('hello from alice');
    bob.send('hi alice');
    carol.send('/me waves');
    for (const [c, expect] of [
      [alice, ['<bob> hi alice', '* carol waves']],
      [bob, ['<alice> hello from alice', '* carol waves']],
      [carol, ['<alice> hello from alice', '<bob> hi alice']],
    ] as const) {
      for (const line of expect) await c.wait((l) => l === line, `${line} at a client`);
    }
    // One order for everyone: carol and alice saw alice's and bob's lines in the same order.
    const order = (c: RawClient): string[] => c.lines.filter((l) => l.startsWith('<'));
    assert.deepEqual(order(carol), ['<alice> hello from alice', '<bob> hi alice']);
    assert.ok(!alice.lines.includes('<alice> hello from alice'), 'the author does not get its own line back');
    await s.out.wait((l) => l.endsWith('* carol waves'), 5000, 'the transcript on the server stdout');
    bob.send('/quit see you');
    await alice.wait((l) => l === '*** bob left (quit): see you', 'bob leaving');
    await within(bob.closed, 5000, 'bob closed');
    assert.equal(bob.endedWith, 'end', 'after /quit the server closes with FIN');
  });

  it('broadcasts lines typed on the server console as <@name>, sanitised, as the seed\'s server did', async () => {
    const s = await serve(['--name', 'lab']);
    const alice = await join(s.port, 'alice');
    s.child.stdin!.write('hello from the console \x1b[31mred\n');
    await alice.wait((l) => l === '<@lab> hello from the console red', 'the console line');
    s.child.stdin!.write('/who\n');
    await s.log.wait((l) => l.endsWith('1 here: alice'), 5000, '/who on the console');
  });

  it('refuses a nickname that is taken (in any case) or invalid, and keeps the old one', async () => {
    const s = await serve();
    await join(s.port, 'alice');
    const other = raw(s.port);
    const welcome = await other.wait((l) => l.startsWith('*** welcome to '), 'welcome');
    const guest = /you are (guest\d+)/.exec(welcome)![1]!;
    other.send('/nick alice');
    await other.wait((l) => l === `*** the nickname alice is taken; you are still ${guest}`, 'clash refused');
    other.send('/nick ALICE');
    await other.wait((l) => l === `*** the nickname ALICE is taken; you are still ${guest}`, 'case-insensitive clash refused');
    other.send('/nick bad nick!');
    await other.wait((l) => l.startsWith('*** cannot take that nickname: a nickname is 1 to 16'), 'invalid nick refused');
    other.send('/nick alice2');
    await other.wait((l) => l === '*** you are now known as alice2', 'rename');
    other.send('/who');
    await other.wait((l) => l === '*** 2 here: alice, alice2', '/who');
  });

  it('delivers /msg to its addressee only', async () => {
    const s = await serve();
    const alice = await join(s.port, 'alice');
    const bob = await join(s.port, 'bob');
    const carol = await join(s.port, 'carol');
    alice.send('/msg BOB the secret is 42');
    await bob.wait((l) => l === '*alice* the secret is 42', 'private message at bob');
    await alice.wait((l) => l === '-> *bob* the secret is 42', 'confirmation at alice');
    alice.send('/msg nobody hello');
    await alice.wait((l) => l.startsWith('*** no one called "nobody" is here'), 'unknown addressee');
    alice.send('public line');
    await carol.wait((l) => l === '<alice> public line', 'the public line after it');
    assert.ok(!carol.lines.some((l) => l.includes('secret')), `carol must not see the private message: ${carol.lines.join(' | ')}`);
  });

  it('refuses an over-long line with a notice and keeps the connection', async () => {
    const s = await serve(['--max-line', '100']);
    const alice = await join(s.port, 'alice');
    const bob = await join(s.port, 'bob');
    alice.send('x'.repeat(101));
    await alice.wait((l) => l === '*** line too long (101 bytes, the limit is 100); it was not sent', 'notice for 101 bytes');
    alice.send('y'.repeat(3 * 1024 * 1024));
    await alice.wait((l) => l === `*** line too long (${3 * 1024 * 1024} bytes, the limit is 100); it was not sent`, 'notice for 3 MiB');
    alice.send('z'.repeat(100));
    alice.send('still here');
    await bob.wait((l) => l === '<alice> still here', 'the next line');
    assert.deepEqual(bob.lines.filter((l) => l.startsWith('<alice>')), [`<alice> ${'z'.repeat(100)}`, '<alice> still here']);
    assert.equal(alice.endedWith, null);
  });

  it('strips control characters and escape sequences from everything it relays', async () => {
    const s = await serve();
    const alice = await join(s.port, 'alice');
    const bob = await join(s.port, 'bob');
    const evil = Buffer.concat([
      Buffer.from('a\x1b[2J\x1b[Hb\x1b]0;owned\x07c\x1b]8;;http://x\x1b\\d\x1bce\x07\x08\r f'),
      Buffer.from([0xc2, 0x9b, 0x33, 0x31, 0x6d]), // U+009B: the one-byte CSI, encoded in UTF-8
      Buffer.from('g'),
      Buffer.from([0x9b, 0x33, 0x31, 0x6d]), // a raw 0x9b byte: invalid UTF-8
      Buffer.from('h\u202eevil\u2069 é\n'),
    ]);
    alice.send(evil);
    alice.send('/me \x1b[5mblinks\x1b[0m');
    alice.send('/msg bob \x1b]52;c;Y2xpcA==\x07clip');
    const got = await bob.wait((l) => l.startsWith('<alice> '), 'the sanitised line');
    assert.equal(got, '<alice> abcde fg\ufffd31mhevil é');
    await bob.wait((l) => l === '* alice blinks', 'sanitised /me');
    await bob.wait((l) => l === '*alice* clip', 'sanitised /msg');
    for (const l of bob.lines) assert.doesNotMatch(l, /[\x00-\x1f\x7f-\x9f]/, `a control character reached bob: ${JSON.stringify(l)}`);
  });

  it('evicts a frozen reader (zero window, full queue) while the others receive every line in order', async () => {
    const s = await serve(['--flood-limit', '0', '--queue-bytes', '65536']);
    const frozen = ncat(s.port);
    frozen.type('/nick frozen\n');
    await frozen.out.wait((l) => l === '*** you are now known as frozen', 5000, 'frozen ncat named');
    const sender = await join(s.port, 'sender');
    const l1 = await join(s.port, 'l1');
    const l2 = await join(s.port, 'l2');
    frozen.proc.kill('SIGSTOP');
    const pad = 'p'.repeat(990);
    let sent = 0;
    const started = Date.now();
    // Send in steps of 500 lines until the server gives up on the frozen reader (bounded: 64 MiB).
    while (!l1.lines.includes('*** frozen left (stopped reading)') && sent < 64 * 1024) {
      for (let i = 0; i < 500; i++) sender.send(`${String(sent++).padStart(8, '0')} ${pad}`);
      const last = `<sender> ${String(sent - 1).padStart(8, '0')} ${pad}`;
      await l1.wait((l) => l === last, `line ${sent - 1} at l1`, 10_000);
    }
    await l1.wait((l) => l === '*** frozen left (stopped reading)', 'the eviction notice', 10_000);
    sender.send('END');
    for (const c of [l1, l2]) {
      await c.wait((l) => l === '<sender> END', 'END', 10_000);
      const got = c.lines.filter((l) => l.startsWith('<sender> ') && l !== '<sender> END').map((l) => Number(l.slice(9, 17)));
      assert.equal(got.length, sent, 'every line arrived');
      got.forEach((n, i) => assert.equal(n, i, `line ${i} arrived in order`));
    }
    const log = await s.log.wait((l) => l.includes('frozen (') && l.includes('not reading'), 5000, 'the eviction log line');
    assert.match(log, /receive window is zero/);
    assert.ok(Date.now() - started < 30_000);
    assert.ok(sent * 1000 < 64 * 1024 * 1024, `evicted after ${sent} lines`);
  });

  it('logs ECONNRESET for a client killed with SIGKILL mid-message and drops its unfinished line', async () => {
    const s = await serve();
    const alice = await join(s.port, 'alice');
    const bob = await join(s.port, 'bob');
    const victim = ncat(s.port);
    victim.type('/nick victim\n');
    await victim.out.wait((l) => l === '*** you are now known as victim', 5000, 'victim named');
    const vport = /127\.0\.0\.1:(\d+): guest\d+ is now victim/.exec(await s.log.wait((l) => l.endsWith(' is now victim'), 5000, 'rename logged'))![1]!;
    victim.type('half a mess');
    await waitForSocket(vport, (sendQ) => sendQ === 0, 'the partial line acknowledged by the server');
    victim.proc.kill('SIGSTOP');
    alice.send('are you still there?');
    // The line now sits unread in the victim's receive queue: closing must send RST.
    await waitForSocket(vport, (_s, recvQ) => recvQ > 0, 'unread data in the victim socket');
    victim.proc.kill('SIGKILL');
    const line = await s.log.wait((l) => l.startsWith('victim (') || (l.includes(' victim (') && l.includes('left:')), 5000, 'the reset logged');
    assert.match(line, /connection reset by peer \(ECONNRESET\)/);
    assert.match(line, /an unfinished line of 11 B was discarded/);
    await bob.wait((l) => l === '*** victim left (connection reset)', 'the leave notice');
    bob.send('still chatting');
    await alice.wait((l) => l === '<bob> still chatting', 'the chat goes on');
    assert.ok(!alice.lines.some((l) => l.includes('half a mess')) && !bob.lines.some((l) => l.includes('half a mess')));
  });

  it('relays the last unterminated line of a client that closes with FIN', async () => {
    const s = await serve();
    const alice = await join(s.port, 'alice');
    const bob = await join(s.port, 'bob');
    bob.socket.end('no newline at the end');
    await alice.wait((l) => l === '<bob> no newline at the end', 'the last line');
    await alice.wait((l) => l === '*** bob left (closed the connection)', 'the leave notice');
    await s.log.wait((l) => l.includes('bob (') && l.includes('closed cleanly (FIN)'), 5000, 'the FIN logged');
  });

  it('holds 500 clients at once and delivers to all of them within seconds', async () => {
    const s = await serve();
    const started = Date.now();
    const all = await Promise.all(Array.from({ length: 500 }, (_, i) => join(s.port, `c${i}`)));
    const connectedMs = Date.now() - started;
    all[0]!.send('hello five hundred');
    await Promise.all(all.slice(1).map((c) => c.wait((l) => l === '<c0> hello five hundred', 'the broadcast', 15_000)));
    const deliveredMs = Date.now() - started;
    all[1]!.send('/who');
    const who = await all[1]!.wait((l) => l.startsWith('*** 500 here: '), '/who');
    assert.equal(who.split(', ').length, 500);
    assert.ok(deliveredMs < 10_000, `500 clients connected in ${connectedMs} ms, all reached in ${deliveredMs} ms`);
  });

  it('refuses the client beyond --max-clients politely, with a line and a FIN', async () => {
    const s = await serve(['--max-clients', '2']);
    await join(s.port, 'a');
    await join(s.port, 'b');
    const third = raw(s.port);
    await third.wait((l) => l === '*** sorry, the server is full (2 clients); try again later', 'the refusal');
    await within(third.closed, 5000, 'the refused connection closed');
    assert.equal(third.endedWith, 'end');
  });

  it('throttles a flooder by reading it more slowly, delivering every line in order', async () => {
    const s = await serve(['--flood-limit', '50', '--flood-burst', '10']);
    const alice = await join(s.port, 'alice');
    const bob = await join(s.port, 'bob');
    const started = Date.now();
    alice.send(Array.from({ length: 100 }, (_, i) => `flood ${i}`).join('\n'));
    await alice.wait((l) => l.startsWith('*** slow down: at most 50 lines per second'), 'the warning');
    await bob.wait((l) => l === '<alice> flood 99', 'the last line', 10_000);
    const elapsed = Date.now() - started;
    assert.deepEqual(bob.lines.filter((l) => l.startsWith('<alice>')), Array.from({ length: 100 }, (_, i) => `<alice> flood ${i}`));
    assert.ok(elapsed >= 1500, `100 lines at 50/s after a burst of 10 take ≥ 1.8 s, took ${elapsed} ms`);
  });

  it('disconnects an idle client after --idle-timeout with a notice and FIN', async () => {
    const s = await serve(['--idle-timeout', '1']);
    const sleeper = await join(s.port, 'sleeper');
    const awake = await join(s.port, 'awake');
    const ping = setInterval(() => awake.send('/ping'), 200);
    try {
      await sleeper.wait((l) => l === '*** you were disconnected: idle for too long', 'idle notice', 5000);
      await within(sleeper.closed, 5000, 'sleeper closed');
      assert.equal(sleeper.endedWith, 'end');
      await awake.wait((l) => l === '*** sleeper left (idle for too long)', 'the others are told');
      assert.equal(awake.endedWith, null);
    } finally {
      clearInterval(ping);
    }
  });

  it('speaks with ncat as a client, both ways', async () => {
    const s = await serve();
    const bob = await join(s.port, 'bob');
    const nc = ncat(s.port);
    nc.type('/nick nc1\nhello from ncat\n');
    await bob.wait((l) => l === '<nc1> hello from ncat', 'the ncat line');
    bob.send('hello \x1b[31mncat');
    await nc.out.wait((l) => l === '<bob> hello ncat', 5000, 'bob at ncat');
    nc.proc.stdin!.end();
    await bob.wait((l) => l === '*** nc1 left (closed the connection)', 'ncat leaving with FIN');
  });

  it('on SIGTERM sends every client a notice and a FIN, never an RST, and exits 0', async () => {
    const s = await serve();
    const cs = await Promise.all(['a', 'b', 'c', 'd', 'e'].map((n) => join(s.port, n)));
    // One client keeps talking through the shutdown: its unread input must not turn the close into RST.
    const chatty = cs[0]!;
    const talk = setInterval(() => {
      if (chatty.endedWith === null && !chatty.socket.writableEnded) chatty.send('still talking');
    }, 5);
    try {
      await cs[1]!.wait((l) => l === '<a> still talking', 'chatter');
      s.child.kill('SIGTERM');
      for (const c of cs) {
        await c.wait((l) => l === '*** server shutting down; goodbye', 'the shutdown notice');
        await within(c.closed, 5000, 'closed');
        assert.equal(c.endedWith, 'end', 'FIN, not ECONNRESET');
      }
    } finally {
      clearInterval(talk);
    }
    const { code, signal } = await within(s.exited, 10_000, 'server exit');
    assert.equal(code, 0, `exit ${code} ${signal}`);
    await s.log.wait((l) => l.includes('shutting down: sent a notice and FIN to 5 clients'), 1000, 'the shutdown log');
  });
});

/**
 * Polls `ss` for the client-side socket with local port `port` until `ok(sendQ, recvQ)` holds
 * (bounded). There is no event for "the kernel queued bytes", so this is the one place we poll.
 */
async function waitForSocket(port: string, ok: (sendQ: number, recvQ: number) => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 5000;
  let last = '';
  while (Date.now() < deadline) {
    last = await new Promise<string>((resolve) => execFile('ss', ['-Htn', `sport = :${port}`], (_e, out) => resolve(String(out))));
    const m = /^\S+\s+(\d+)\s+(\d+)/m.exec(last);
    if (m !== null && ok(Number(m[2]), Number(m[1]))) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`${what}: not seen within 5 s; ss said: ${last}`);
}
