/**
 * `tcpsleuth explain`: a topic for everything the lab and the diagnosis can name, and the texts
 * that the lab's recordings showed to be subtle (which reason, which errno).
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { explainTopic, FINDING_KINDS, topicNames } from '../src/diagnose/knowledge.js';
import { SCENARIOS } from '../src/lab/scenarios/index.js';
import { runCli } from './helpers/run-cli.js';

it('explains every errno and kernel reason the lab scenarios expect, and every finding kind', () => {
  const errnos = new Set<string>();
  const reasons = new Set<string>();
  for (const s of SCENARIOS) {
    for (const c of s.expect.calls) if (c.errno !== null) errnos.add(c.errno);
    for (const e of s.expect.socketErrors ?? []) errnos.add(e);
    for (const r of s.expect.resets) for (const name of r.reason === null ? [] : typeof r.reason === 'string' ? [r.reason] : r.reason) reasons.add(name);
  }
  assert.ok(errnos.has('EADDRNOTAVAIL') && reasons.has('INVALID_SYN'));
  for (const name of [...errnos, ...reasons, ...FINDING_KINDS]) assert.notEqual(explainTopic(name), null, `no topic for ${name}`);
  assert.ok(topicNames().errno.includes('EADDRNOTAVAIL'));
});

it('says what the lab shows: data after shutdown() is TCP_ABORT_ON_DATA, an accept-queue abort is INVALID_SYN, a write that draws an RST is EPIPE', () => {
  assert.match(explainTopic('TCP_ABORT_ON_DATA')!, /shutdown\(SHUT_RDWR\)/);
  assert.match(explainTopic('TCP_ABORT_ON_DATA')!, /look the same on the wire/);
  assert.match(explainTopic('INVALID_SYN')!, /tcp_abort_on_overflow = 1/);
  assert.match(explainTopic('accept-overflow')!, /ShDTa/);
  assert.match(explainTopic('challenge-ack')!, /a SYN on a live connection/);
  assert.match(explainTopic('time-wait-assassination')!, /unless net\.ipv4\.tcp_rfc1337 = 1/);
  // ECONNRESET's causes no longer claim the close-then-write resets; they point at EPIPE.
  assert.match(explainTopic('ECONNRESET')!, /CLOSE_WAIT and the next send\(\) gets EPIPE instead/);
});

it('takes one topic, in any case, and refuses options it does not have', async () => {
  const ok = await runCli(['explain', 'econnreset']);
  assert.equal(ok.code, 0);
  assert.match(ok.stdout, /^ECONNRESET — errno\n/);
  assert.equal((await runCli(['explain', '--', 'ECONNRESET'])).code, 0);
  for (const args of [['--json', 'ECONNRESET'], ['ECONNRESET', '--bogus']]) {
    const r = await runCli(['explain', ...args]);
    assert.equal(r.code, 2, args.join(' '));
    assert.match(r.stderr, /^tcpsleuth explain: unknown option "--(json|bogus)"/);
  }
  const unknown = await runCli(['explain', 'EWHATEVER']);
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /no topic "EWHATEVER"/);
  assert.equal((await runCli(['explain', 'ECONNRESET', 'EPIPE'])).code, 2);
});
