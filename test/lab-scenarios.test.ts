/**
 * Every lab scenario, run for real in its own namespace: the kernel's RST reasons and the errnos
 * the socket calls returned are asserted here, independently of each scenario's own expectation
 * (which is asserted too, through truth.json's verdict). The table is what Linux 6.18 does.
 */
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { diagnosisText, renderTable } from '../src/lab/render.js';
import { runScenario, type LabRun } from '../src/lab/runner.js';
import { SCENARIOS } from '../src/lab/scenarios/index.js';
import type { Truth } from '../src/lab/truth.js';
import { labLeftovers, nothingLeft } from './helpers/lab-leftovers.js';

interface Want {
  /** "role:REASON[@STATE]" for each tcp_send_reset ("role:A|B": either reason); "role:-" for an RST the TCP stack did not send. */
  resets: string[];
  /** "role call ERRNO" for calls that must have failed so. */
  errnos: string[];
  /** "role call ok" for calls that must have succeeded. */
  ok?: string[];
  drops?: string[];
}

const WANT: Record<string, Want> = {
  'closed-port': { resets: ['server:NO_SOCKET'], errnos: ['client connect ECONNREFUSED'], drops: ['NO_SOCKET'] },
  'closed-port-ipv6': { resets: ['server:NO_SOCKET'], errnos: ['client connect ECONNREFUSED'], drops: ['NO_SOCKET'] },
  'close-unread-data': { resets: ['server:TCP_ABORT_ON_CLOSE@TCP_CLOSE'], errnos: ['client recv ECONNRESET'], ok: ['client send ok'] },
  'close-unread-data-ipv6': { resets: ['server:TCP_ABORT_ON_CLOSE@TCP_CLOSE'], errnos: ['client recv ECONNRESET'] },
  'linger-zero-abort': { resets: ['client:TCP_STATE@TCP_CLOSE'], errnos: ['server recv ECONNRESET'] },
  // TCP_ABORT_ON_DATA instead when the FIN's ACK met a socket still locked by close() (see the story).
  'write-after-peer-close': { resets: ['server:TCP_TIMEWAIT_SOCKET|TCP_ABORT_ON_DATA'], errnos: ['client send EPIPE'], ok: ['client send ok'] },
  'write-after-shutdown': { resets: ['server:TCP_ABORT_ON_DATA'], errnos: ['client send EPIPE', 'server recv ECONNRESET'], ok: ['client send ok'] },
  'read-after-rst': { resets: ['server:TCP_STATE@TCP_CLOSE'], errnos: ['client recv ECONNRESET', 'client send EPIPE'], ok: ['client recv ok'] },
  'linger2-fin-wait2-abort': { resets: ['client:TCP_ABORT_ON_LINGER@TCP_CLOSE'], errnos: ['server send EPIPE'] },
  'keepalive-timeout': { resets: ['client:TCP_KEEPALIVE_TIMEOUT@TCP_ESTABLISHED'], errnos: ['client recv ETIMEDOUT', 'server recv ECONNRESET'] },
  'syn-dropped-connect-timeout': { resets: [], errnos: ['client connect ETIMEDOUT'], drops: ['NETFILTER_DROP'] },
  'user-timeout': { resets: [], errnos: ['client recv ETIMEDOUT'], ok: ['client send ok'], drops: ['NETFILTER_DROP'] },
  'mtu-black-hole': { resets: [], errnos: ['client recv ETIMEDOUT'], ok: ['client send ok', 'server recv ok', 'client recv ok'], drops: ['NETFILTER_DROP'] },
  'firewall-reset': { resets: ['server:-'], errnos: ['client connect ECONNREFUSED'], drops: ['NETFILTER_DROP'] },
  'half-open': { resets: ['server:TCP_STATE@TCP_CLOSE', 'server:TCP_FLAGS@TCP_LISTEN'], errnos: ['client recv ECONNRESET'], ok: ['client send ok'] },
  'challenge-ack': { resets: [], errnos: [], ok: ['intruder sendto ok', 'client send ok', 'server recv ok'], drops: ['TCP_INVALID_SYN'] },
  'time-wait-assassination': { resets: ['server:NO_SOCKET'], errnos: [], drops: ['NO_SOCKET'] },
  'time-wait-assassination-rfc1337': { resets: ['server:NO_SOCKET'], errnos: [], drops: ['NO_SOCKET'] },
  'close-wait-port-reuse': { resets: ['client:TCP_INVALID_ACK_SEQUENCE@TCP_SYN_SENT'], errnos: ['client connect EADDRNOTAVAIL', 'server send EPIPE'], ok: ['client connect ok'] },
  'accept-overflow': { resets: [], errnos: [], ok: ['client-a send ok', 'server accept ok', 'server recv ok'], drops: ['TCP_LISTEN_OVERFLOW'] },
  'accept-overflow-abort': { resets: ['server:INVALID_SYN@TCP_LISTEN'], errnos: ['client-a recv ECONNRESET'], drops: ['TCP_LISTEN_OVERFLOW'] },
  'accept-queue-slow-connect': { resets: [], errnos: [], ok: ['client-c connect ok', 'server accept ok'] },
  'zero-window': { resets: [], errnos: ['client send EAGAIN'] },
};

function resetsOf(t: Truth): string[] {
  return t.connections.flatMap((c) => c.resets.map((r) => (r.kernel === null ? `${r.role}:-` : `${r.role}:${r.kernel.reason}@${r.kernel.state ?? 'none'}`)));
}

/** An RST seen, as `role:reason`; as the table's `role:A|B` when that row accepts its reason. */
function asWanted(seen: string, want: string[]): string {
  const bare = seen.replace(/@.*$/, '');
  const [role, reason] = bare.split(':');
  const row = want.map((w) => w.replace(/@.*$/, '')).find((w) => w.startsWith(`${role}:`) && w.slice(role!.length + 1).split('|').includes(reason!));
  return row ?? bare;
}

function callsOf(t: Truth): string[] {
  return [...t.connections.flatMap((c) => c.calls), ...t.unattached_calls].map((c) => `${c.role} ${c.call} ${c.errno ?? 'ok'}`);
}

const runs: LabRun[] = [];

describe('lab scenarios on this kernel', () => {
  test('every scenario has a row in this table and the other way round', () => {
    assert.deepEqual(SCENARIOS.map((s) => s.name).sort(), Object.keys(WANT).sort());
  });

  for (const scenario of SCENARIOS) {
    test(scenario.name, async () => {
      const run = await runScenario(scenario);
      runs.push(run);
      const t = run.truth;
      const want = WANT[scenario.name]!;
      const resets = resetsOf(t);
      const calls = callsOf(t);
      const context = `\nresets: ${resets.join(', ') || 'none'}\ncalls: ${calls.join(', ')}\ndrops: ${t.observed.drops.join(', ')}\nmismatches: ${t.verdict.mismatches.join('; ')}`;
      assert.equal(t.error, null, `the scenario itself failed${context}`);
      // Exactly these RSTs (kernel reason and state, or not from the stack), no others.
      assert.deepEqual(
        resets.map((r) => asWanted(r, want.resets)).sort(),
        want.resets.map((r) => r.replace(/@.*$/, '')).sort(),
        `RSTs${context}`,
      );
      for (const r of want.resets.filter((x) => x.includes('@'))) assert.ok(resets.includes(r), `RST ${r}${context}`);
      for (const e of want.errnos) assert.ok(calls.includes(e), `${e}${context}`);
      for (const o of want.ok ?? []) assert.ok(calls.includes(o), `${o}${context}`);
      for (const d of want.drops ?? []) assert.ok(t.observed.drops.includes(d), `drop ${d}${context}`);
      // Failed calls that the table does not list are not allowed either (the errnos are the point).
      const failed = calls.filter((c) => !c.endsWith(' ok'));
      for (const f of failed) assert.ok(want.errnos.includes(f), `unexpected ${f}${context}`);
      assert.equal(t.verdict.ok, true, `the scenario's own expectation${context}`);
      // Every RST the kernel sent and that reached the capture is paired with its frame.
      for (const c of t.connections) for (const r of c.resets) if (r.wire !== null) assert.ok(r.wire.frame >= 1);
      assert.equal(t.lost_events, 0, 'no kernel event was lost');
    });
  }

  after(() => {
    const total = runs.reduce((s, r) => s + r.durationS, 0);
    process.stderr.write(`lab: ${runs.length} scenarios in ${total.toFixed(1)} s\n`);
  });
});

test('the whole lab stays well under 3 minutes', () => {
  const total = runs.reduce((s, r) => s + r.durationS, 0);
  assert.equal(runs.length, SCENARIOS.length);
  assert.ok(total < 120, `the lab took ${total.toFixed(1)} s`);
});

test('after every scenario ran, nothing of the lab is left', () => {
  const l = labLeftovers(process.pid);
  assert.ok(nothingLeft(l), JSON.stringify(l));
});

test('truth.json ties the views together (close-wait-port-reuse)', () => {
  const t = runs.find((r) => r.scenario.name === 'close-wait-port-reuse')!.truth;
  const withRst = t.connections.filter((c) => c.resets.length > 0);
  assert.equal(withRst.length, 1);
  const c = withRst[0]!;
  assert.equal(c.in_capture, true);
  assert.equal(c.conn_state, 'RSTOS0');
  assert.equal(c.orig.addr, t.addresses.client_addr);
  assert.deepEqual(c.resp, t.addresses.server);
  const r = c.resets[0]!;
  assert.equal(r.by, 'orig');
  assert.equal(r.role, 'client');
  assert.equal(r.kernel?.reason, 'TCP_INVALID_ACK_SEQUENCE');
  assert.equal(r.kernel?.state, 'TCP_SYN_SENT');
  assert.ok(r.wire !== null && r.wire.flags.includes('R'));
  // The 4-tuple was used three times: the leaked connection, the collision, the retried connect.
  const same = t.connections.filter((x) => x.orig.port === c.orig.port);
  assert.ok(same.length >= 3, JSON.stringify(same.map((x) => [x.id, x.conn_state])));
  // The capture alone names the same sender and reason as the kernel.
  assert.equal(t.diagnosis.status, 'agrees');
  assert.deepEqual(c.diagnosis.map((d) => d.result), ['agrees']);
  assert.equal(c.diagnosis[0]!.finding?.reason, 'TCP_INVALID_ACK_SEQUENCE');
  assert.equal(t.files.capture, 'capture.pcap');
});

test('the stories tell the timing the recordings show', () => {
  // syn-dropped-connect-timeout: TCP_SYNCNT=1 is a 3 s budget; linear SYN timeouts (6.18's
  // default tcp_syn_linear_timeouts=4) fit three SYNs in it, 1 s apart.
  const syn = runs.find((r) => r.scenario.name === 'syn-dropped-connect-timeout')!.truth;
  const c = syn.connections.find((x) => x.in_capture)!;
  const rtx = c.retransmits.filter((x) => x.state === 'TCP_SYN_SENT').map((x) => x.ts);
  assert.equal(rtx.length, 2, JSON.stringify(c.retransmits));
  const connect = c.calls.find((x) => x.call === 'connect')!;
  const first = c.first!;
  assert.ok(Math.abs(rtx[0]! - first - 1) < 0.3 && Math.abs(rtx[1]! - first - 2) < 0.3, `retransmissions at ${rtx.map((t) => (t - first).toFixed(2)).join(', ')} s`);
  assert.ok(Math.abs(connect.ts - first - 3) < 0.3, `ETIMEDOUT after ${(connect.ts - first).toFixed(2)} s`);
  assert.match(runs.find((r) => r.scenario.name === 'syn-dropped-connect-timeout')!.scenario.story, /at 0, 1 and 2 s/);
  // close-wait-port-reuse: the SYN is resent within milliseconds of the client's RST, not after the RTO.
  const cw = runs.find((r) => r.scenario.name === 'close-wait-port-reuse')!;
  const rst = cw.truth.connections.flatMap((x) => x.resets)[0]!;
  const resent = cw.truth.connections.flatMap((x) => x.retransmits).find((x) => x.state === 'TCP_SYN_SENT' && x.ts > rst.kernel!.ts)!;
  assert.ok(resent !== undefined && resent.ts - rst.kernel!.ts < 0.1, `SYN resent ${resent === undefined ? 'never' : `${((resent.ts - rst.kernel!.ts) * 1000).toFixed(1)} ms`} after the RST`);
  assert.doesNotMatch(cw.scenario.story, /retransmitted after its RTO/);
});

test('truth.json tells TIME_WAIT assassination from its prevention: the socket table, in kernel_notes', () => {
  const notes = (name: string): string[] =>
    runs
      .find((r) => r.scenario.name === name)!
      .truth.kernel_notes.filter((n) => n.source === 'sockets')
      .map((n) => n.text);
  assert.deepEqual(notes('time-wait-assassination'), ['the client TIME_WAIT socket is gone: assassinated by the RST']);
  assert.deepEqual(notes('time-wait-assassination-rfc1337'), ['the client TIME_WAIT socket survived the RST (tcp_rfc1337=1)']);
  for (const n of runs.find((r) => r.scenario.name === 'time-wait-assassination')!.truth.kernel_notes) assert.ok(n.source === 'tracer' || typeof n.ts === 'number');
});

test('the --all table: one row per scenario with RST reasons, errnos and the diagnosis column', () => {
  const table = renderTable(runs).split('\n');
  assert.match(table[0]!, /^scenario\s+kernel RST reasons\s+errnos\s+as expected\s+capture-only diagnosis/);
  assert.equal(table.length, runs.length + 2);
  const row = table.find((l) => l.startsWith('close-wait-port-reuse '))!;
  assert.match(row, /client:TCP_INVALID_ACK_SEQUENCE/);
  assert.match(row, /connect:EADDRNOTAVAIL/);
  assert.match(row, / yes /);
  assert.match(row, /agrees \(1\)/);
  assert.match(table.find((l) => l.startsWith('firewall-reset '))!, /server:not-the-stack/);
  // No RST at all: nothing to compare, not an agreement.
  for (const name of ['syn-dropped-connect-timeout', 'challenge-ack', 'zero-window']) {
    assert.match(table.find((l) => l.startsWith(`${name} `))!, /n\/a \(no RST\)/, name);
    assert.doesNotMatch(table.find((l) => l.startsWith(`${name} `))!, /agrees/, name);
  }
});

test('half-open: the RST dropped before the capture point is not held against the capture-only diagnosis', () => {
  const t = runs.find((r) => r.scenario.name === 'half-open')!.truth;
  const checks = t.connections.flatMap((c) => c.diagnosis);
  assert.deepEqual(checks.map((d) => d.result).sort(), ['ambiguous', 'not-on-wire']);
  assert.deepEqual(t.diagnosis, { status: 'agrees-or-ambiguous', agree: 0, ambiguous: 1, disagree: 0, undiagnosed: 0, not_on_wire: 1 });
  assert.equal(diagnosisText(t), "ambiguous (1 of 1, kernel's reason among the candidates; 1 RST not on the wire, not compared)");
  for (const name of ['syn-dropped-connect-timeout', 'accept-overflow']) {
    const u = runs.find((r) => r.scenario.name === name)!.truth;
    assert.equal(u.diagnosis.status, 'no-rst', name);
  }
});
