/**
 * The three views side by side: each row is one moment with what the wire showed, what the
 * kernel reported and what an application's socket call returned. Items closer than half a
 * millisecond share a row when their columns are free (a RST segment and the tcp_send_reset
 * that produced it), so cause and effect line up.
 */
import type { KernelEvent } from '../kernel/trace-events.js';
import { shortStateName } from '../kernel/tcp-states.js';
import type { Outcome } from './outcome.js';
import type { LabNote } from './runner.js';
import { SideNamer } from './sides.js';
import type { WirePacket } from './wire.js';

export interface TimelineRow {
  ts: number;
  wire: string | null;
  kernel: string | null;
  app: string | null;
}

export interface TimelineInput {
  wire: WirePacket[];
  events: KernelEvent[];
  outcomes: Outcome[];
  notes: LabNote[];
  serverAddr: string;
  port: number;
}

type Column = 'wire' | 'kernel' | 'app';

function fnName(location: string | undefined): string {
  return location === undefined ? '?' : location.replace(/\+0x.*$/, '');
}

export function describeEvent(e: KernelEvent, n: SideNamer): string {
  const src = e.saddr === null || e.sport === null ? null : { addr: e.saddr, port: e.sport };
  const dst = e.daddr === null || e.dport === null ? null : { addr: e.daddr, port: e.dport };
  switch (e.event) {
    case 'tcp_send_reset':
      return `send RST ${e.reason ?? '?'} ${n.label(src)}→${n.label(dst)} [${e.state === null ? 'no socket' : shortStateName(e.state)}]`;
    case 'tcp_receive_reset':
      return `RST accepted by ${n.label(src)}`;
    case 'kfree_skb':
      return `drop ${e.reason ?? '?'} in ${fnName(e.location)}${src !== null ? ` (${n.label(src)}→${n.label(dst)})` : ''}`;
    case 'inet_sk_error_report':
      return `sk_err ${e.errnoName ?? e.errno} on ${n.label(src)}`;
    case 'inet_sock_set_state':
      return `${n.label(src)} ${shortStateName(e.oldState ?? '?')}→${shortStateName(e.state ?? '?')}`;
    case 'tcp_retransmit_skb':
      return `retransmit ${n.label(src)}→${n.label(dst)} [${shortStateName(e.state ?? '?')}]`;
    case 'tcp_retransmit_synack':
      return `SYN-ACK again ${n.label(src)}→${n.label(dst)}`;
    default:
      return e.event;
  }
}

export function describeOutcome(o: Outcome, n: SideNamer): string {
  const who = o.role === 'server' || o.role.startsWith('client') || o.local === null ? o.role : `${o.role} ${n.label(o.local)}`;
  const res = o.errno !== null ? `-1 ${o.errno}` : o.bytes !== undefined && o.bytes > 0 ? `${o.ret}` : `${o.ret}`;
  const arg = o.arg !== undefined ? `, ${o.arg}` : '';
  const port = o.local !== null && o.role.startsWith('client') && o.local.port !== 0 ? `:${o.local.port}` : '';
  return `${who}${port} ${o.call}(${o.sock}${arg}) = ${res}`;
}

export function describePacket(p: WirePacket, n: SideNamer): string {
  return `${n.label(p.src)}→${n.label(p.dst)} [${p.flags}]${p.len > 0 ? ` len ${p.len}` : ''}${p.window === 0 && !p.flags.includes('R') ? ' win 0' : ''}`;
}

export function buildTimeline(input: TimelineInput): TimelineRow[] {
  const n = new SideNamer({ addr: input.serverAddr, port: input.port });
  const items: { ts: number; col: Column; text: string }[] = [];
  for (const p of input.wire) items.push({ ts: p.ts, col: 'wire', text: `#${p.frame} ${describePacket(p, n)}` });
  for (const e of input.events) items.push({ ts: e.ts, col: 'kernel', text: describeEvent(e, n) });
  for (const o of input.outcomes) items.push({ ts: o.end, col: 'app', text: describeOutcome(o, n) });
  for (const x of input.notes) items.push({ ts: x.ts, col: x.kernel === true ? 'kernel' : 'app', text: `— ${x.text}` });
  // Stable order: by time, and at equal times wire before kernel before application.
  const rank: Record<Column, number> = { wire: 0, kernel: 1, app: 2 };
  items.sort((a, b) => a.ts - b.ts || rank[a.col] - rank[b.col]);
  const rows: TimelineRow[] = [];
  for (const it of items) {
    const last = rows[rows.length - 1];
    if (last !== undefined && last[it.col] === null && it.ts - last.ts < 0.0005) {
      last[it.col] = it.text;
      continue;
    }
    rows.push({ ts: it.ts, wire: null, kernel: null, app: null, [it.col]: it.text });
  }
  return rows;
}
