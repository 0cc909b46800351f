/**
 * Does a run show what its scenario expects on this kernel? Each unmet expectation becomes one
 * sentence; an empty list means the run reproduced the failure.
 */
import type { Expectation, ExpectedReset, LabSide } from './scenario.js';

export interface Observed {
  resets: { from: LabSide; reason: string | null; state: string | null; on_wire: boolean }[];
  calls: { role: string; call: string; errno: string | null }[];
  drops: string[];
  socket_errors: string[];
  conn_states: string[];
  histories: string[];
}

function resetText(r: { from: LabSide; reason: string | null | readonly string[]; state?: string | null }): string {
  const reason = r.reason === null ? '(not from the TCP stack)' : typeof r.reason === 'string' ? r.reason : r.reason.join(' or ');
  return `${r.from} RST ${reason}${r.state !== undefined ? ` in ${r.state ?? 'no state'}` : ''}`;
}

function reasonMatches(want: ExpectedReset, reason: string | null): boolean {
  return want.reason === null || typeof want.reason === 'string' ? want.reason === reason : reason !== null && want.reason.includes(reason);
}

export function checkExpectation(x: Expectation, o: Observed): string[] {
  const out: string[] = [];
  for (const want of x.resets) {
    const hit = o.resets.some((r) => r.from === want.from && reasonMatches(want, r.reason) && (want.state === undefined || r.state === want.state));
    if (!hit) out.push(`expected ${resetText(want)}; saw ${o.resets.length === 0 ? 'no RST' : o.resets.map(resetText).join(', ')}`);
  }
  if (x.onlyTheseResets === true) {
    for (const r of o.resets) {
      if (!x.resets.some((w) => w.from === r.from && reasonMatches(w, r.reason))) out.push(`unexpected ${resetText(r)}`);
    }
  }
  for (const want of x.calls) {
    if (!o.calls.some((c) => c.role === want.role && c.call === want.call && c.errno === want.errno)) {
      const got = o.calls.filter((c) => c.role === want.role && c.call === want.call).map((c) => c.errno ?? 'success');
      out.push(`expected ${want.role} ${want.call}() → ${want.errno ?? 'success'}; got ${got.length === 0 ? 'no such call' : got.join(', ')}`);
    }
  }
  for (const d of x.drops ?? []) if (!o.drops.includes(d)) out.push(`expected a kfree_skb drop ${d}; saw ${o.drops.join(', ') || 'none'}`);
  for (const e of x.socketErrors ?? []) if (!o.socket_errors.includes(e)) out.push(`expected the kernel to set ${e} on a socket; saw ${o.socket_errors.join(', ') || 'none'}`);
  for (const h of x.histories ?? []) if (!o.histories.some((s) => s.includes(h))) out.push(`expected history letter ${h} in some connection; saw ${o.histories.join(', ') || 'none'}`);
  const states = [...o.conn_states];
  for (const s of x.connStates ?? []) {
    const i = states.indexOf(s);
    if (i < 0) out.push(`expected a connection in conn_state ${s} in the capture; saw ${o.conn_states.join(', ') || 'none'}`);
    else states.splice(i, 1);
  }
  return out;
}
