/**
 * truth.json: the three views of one lab run tied together per connection — the contract the
 * diagnosis layer is measured against (schema in docs/lab.md).
 *
 * Connections are keyed by the 4-tuple as the capture shows it (orig → resp, analyze's roles).
 * Every RST is listed with who sent it and why: the kernel's tcp_send_reset (reason, state) paired
 * with the RST segment on the wire; an RST on the wire with no kernel event was not sent by the
 * TCP stack (an nft `reject with tcp reset`, a forged segment); a kernel RST with no segment on
 * the wire was dropped before the capture point (nft in output). Socket calls are attached by the
 * socket's addresses, kernel events by their tuple, and both by time when a 4-tuple was reused.
 */
import { release } from 'node:os';
import type { ConnectionRecord, Finding } from '../analyze/records.js';
import type { KernelEvent } from '../kernel/trace-events.js';
import type { LabAddresses } from './addresses.js';
import { compareDiagnosis, summarizeDiagnosis, type DiagnosisCheck, type DiagnosisSummary } from './agreement.js';
import { checkExpectation, type Observed } from './expect.js';
import type { Endpoint, Outcome } from './outcome.js';
import type { Expectation, LabSide, Scenario } from './scenario.js';
import { sameEndpoint, SideNamer } from './sides.js';
import type { WirePacket } from './wire.js';

export const TRUTH_SCHEMA = 'tcpsleuth.lab.truth/1';

export type CaptureSide = 'orig' | 'resp';

export interface TruthReset {
  /** The sender, in the capture's roles and in the scenario's. */
  by: CaptureSide;
  role: LabSide;
  from: Endpoint;
  to: Endpoint;
  /** tcp_send_reset; null when the TCP stack sent no such RST (a firewall or a forged segment). */
  kernel: { reason: string | null; reason_code: number | null; state: string | null; no_socket: boolean; ts: number } | null;
  /** The RST segment in capture.pcap; null when it never reached the capture point. */
  wire: { frame: number; ts: number; flags: string; seq: number; ack: number } | null;
}

export interface TruthCall {
  side: CaptureSide;
  role: string;
  call: string;
  sock: string;
  arg?: string;
  ret: number;
  errno: string | null;
  ts: number;
}

export interface TruthConnection {
  /** analyze's connection id in capture.pcap; null when the connection never showed on the wire. */
  id: number | null;
  orig: Endpoint;
  resp: Endpoint;
  in_capture: boolean;
  conn_state: string | null;
  history: string | null;
  first: number | null;
  last: number | null;
  resets: TruthReset[];
  /** tcp_receive_reset: an RST that was accepted by the socket at this end. */
  received_resets: { at: CaptureSide; ts: number }[];
  /** kfree_skb with a tuple: the dropped segment went from `from`. */
  drops: { reason: string | null; location: string | null; from: CaptureSide | null; ts: number; tuple_inferred: boolean }[];
  /** inet_sk_error_report: the errno the kernel set on the socket at this end. */
  socket_errors: { side: CaptureSide; errno: string; ts: number }[];
  states: { side: CaptureSide; from: string | null; to: string | null; ts: number }[];
  retransmits: { side: CaptureSide; event: string; state: string | null; ts: number }[];
  calls: TruthCall[];
  findings: Finding[];
  diagnosis: DiagnosisCheck[];
}

export interface Truth {
  schema: typeof TRUTH_SCHEMA;
  scenario: { name: string; title: string; story: string; family: 4 | 6 };
  kernel: string;
  namespace: string;
  started: number;
  ended: number;
  duration_s: number;
  addresses: { server: Endpoint; client_addr: string };
  sysctls: Record<string, string | number>;
  nft: string[];
  files: { capture: string; capture_any: string; events: string; outcomes: string; analysis: string };
  connections: TruthConnection[];
  /** Events with no tuple (most drops), attributed to the run by the task's namespace. */
  untupled_events: { event: string; reason: string | null; location: string | null; ts: number }[];
  /** Calls on sockets without addresses (a socket() that failed, a raw sendto). */
  unattached_calls: TruthCall[];
  expected: Expectation;
  observed: Observed;
  verdict: { ok: boolean; mismatches: string[] };
  diagnosis: DiagnosisSummary;
  error: string | null;
  /**
   * What the kernel showed outside its trace events: `sockets`, the socket table as the scenario
   * read it (a TIME_WAIT socket that vanished or survived); `tracer`, the tracer's own remarks
   * (the trace clock it could use), without a time.
   */
  kernel_notes: KernelNote[];
  lost_events: number;
}

export interface KernelNote {
  ts: number | null;
  source: 'sockets' | 'tracer';
  text: string;
}

export interface TruthInput {
  scenario: Scenario;
  namespace: string;
  addresses: LabAddresses;
  port: number;
  started: number;
  ended: number;
  records: ConnectionRecord[];
  wire: WirePacket[];
  events: KernelEvent[];
  outcomes: Outcome[];
  nft: string[];
  error: string | null;
  kernelNotes: KernelNote[];
  lostEvents: number;
}

function newConnection(id: number | null, orig: Endpoint, resp: Endpoint, r: ConnectionRecord | null): TruthConnection {
  return {
    id,
    orig,
    resp,
    in_capture: r !== null,
    conn_state: r?.conn_state ?? null,
    history: r?.history ?? null,
    first: r?.first ?? null,
    last: r?.last ?? null,
    resets: [],
    received_resets: [],
    drops: [],
    socket_errors: [],
    states: [],
    retransmits: [],
    calls: [],
    findings: r?.findings ?? [],
    diagnosis: [],
  };
}

/** Finds (or creates) the connection of the 4-tuple a↔b around time ts. */
class ConnectionIndex {
  readonly list: TruthConnection[] = [];

  constructor(records: ConnectionRecord[]) {
    for (const r of [...records].sort((a, b) => a.first - b.first)) this.list.push(newConnection(r.id, r.orig, r.resp, r));
  }

  find(a: Endpoint, b: Endpoint, ts: number, create: { orig: Endpoint; resp: Endpoint } | null): TruthConnection | null {
    const same = this.list.filter((c) => (sameEndpoint(c.orig, a) && sameEndpoint(c.resp, b)) || (sameEndpoint(c.orig, b) && sameEndpoint(c.resp, a)));
    if (same.length > 0) {
      // A reused 4-tuple has several records: the one whose packets span the moment (1 ms of
      // slack between clocks), else the latest that had begun by then, else the first.
      const during = same.filter((c) => c.first !== null && c.last !== null && c.first - 0.001 <= ts && ts <= c.last + 0.001);
      if (during.length > 0) return during[during.length - 1]!;
      const begun = same.filter((c) => c.first === null || c.first <= ts);
      return begun.length > 0 ? begun[begun.length - 1]! : same[0]!;
    }
    if (create === null) return null;
    const c = newConnection(null, create.orig, create.resp, null);
    this.list.push(c);
    return c;
  }
}

function sideOf(c: TruthConnection, e: Endpoint): CaptureSide {
  return sameEndpoint(c.orig, e) ? 'orig' : 'resp';
}

function ep(addr: string | null, port: number | null): Endpoint | null {
  return addr === null || port === null ? null : { addr, port };
}

/** A kernel RST and its segment on the wire are stamped on one host: they lie within this of each other. */
const RST_PAIRING_S = 0.005;

function unspecified(addr: string | null): boolean {
  return addr === null || addr === '0.0.0.0' || addr === '::';
}

/**
 * tcp_send_reset sent by a listening socket (reason TCP_FLAGS: an ACK for a connection the
 * listener does not know) prints the listener's own tuple, whose remote end is 0.0.0.0:0. The
 * peer is then taken from the RST segment on the wire, and the drop of the same skb follows.
 */
function repairListenerTuples(events: KernelEvent[], rstPackets: WirePacket[]): void {
  const repaired = new Map<string, KernelEvent>();
  for (const e of events) {
    if (e.event !== 'tcp_send_reset' || e.saddr === null || e.sport === null || (!unspecified(e.daddr) && e.dport !== 0)) continue;
    let best: WirePacket | null = null;
    for (const p of rstPackets) {
      if (p.src.port !== e.sport || Math.abs(p.ts - e.ts) > RST_PAIRING_S) continue;
      if (best === null || Math.abs(p.ts - e.ts) < Math.abs(best.ts - e.ts)) best = p;
    }
    if (best === null) continue;
    e.daddr = best.dst.addr;
    e.dport = best.dst.port;
    e.tupleInferred = true;
    if (e.skbaddr !== undefined) repaired.set(e.skbaddr, e);
  }
  for (const e of events) {
    const r = e.event === 'kfree_skb' && e.skbaddr !== undefined ? repaired.get(e.skbaddr) : undefined;
    if (r === undefined) continue;
    e.saddr = r.daddr;
    e.sport = r.dport;
    e.daddr = r.saddr;
    e.dport = r.sport;
    e.tupleInferred = true;
  }
}

export function buildTruth(input: TruthInput): Truth {
  const server: Endpoint = { addr: input.addresses.server, port: input.port };
  const names = new SideNamer(server);
  const conns = new ConnectionIndex(input.records);
  /** Orientation for a connection seen only by the kernel or an application: client → server. */
  const orient = (a: Endpoint, b: Endpoint): { orig: Endpoint; resp: Endpoint } => (names.role(a) === 'server' ? { orig: b, resp: a } : { orig: a, resp: b });
  const untupled: Truth['untupled_events'] = [];

  // RSTs: kernel events first, each paired with the nearest unpaired RST segment of the same direction.
  const rstPackets = input.wire.filter((p) => p.flags.includes('R'));
  repairListenerTuples(input.events, rstPackets);
  const paired = new Set<WirePacket>();
  for (const e of input.events) {
    const src = ep(e.saddr, e.sport);
    const dst = ep(e.daddr, e.dport);
    if (src !== null && dst !== null && (src.port === 0 || dst.port === 0)) continue; // a socket before connect() chose its port
    if (src === null || dst === null) {
      if (e.event === 'kfree_skb') untupled.push({ event: e.event, reason: e.reason, location: e.location ?? null, ts: e.ts });
      continue;
    }
    const c = conns.find(src, dst, e.ts, orient(src, dst))!;
    switch (e.event) {
      case 'tcp_send_reset': {
        let best: WirePacket | null = null;
        for (const p of rstPackets) {
          if (paired.has(p) || !sameEndpoint(p.src, src) || !sameEndpoint(p.dst, dst) || Math.abs(p.ts - e.ts) > RST_PAIRING_S) continue;
          if (best === null || Math.abs(p.ts - e.ts) < Math.abs(best.ts - e.ts)) best = p;
        }
        if (best !== null) paired.add(best);
        c.resets.push({
          by: sideOf(c, src),
          role: names.role(src),
          from: src,
          to: dst,
          kernel: { reason: e.reason, reason_code: e.reasonCode ?? null, state: e.state, no_socket: e.noSocket === true, ts: e.ts },
          wire: best === null ? null : { frame: best.frame, ts: best.ts, flags: best.flags, seq: best.seq, ack: best.ack },
        });
        break;
      }
      case 'tcp_receive_reset':
        c.received_resets.push({ at: sideOf(c, src), ts: e.ts });
        break;
      case 'kfree_skb':
        c.drops.push({ reason: e.reason, location: e.location ?? null, from: sideOf(c, src), ts: e.ts, tuple_inferred: e.tupleInferred === true });
        break;
      case 'inet_sk_error_report':
        c.socket_errors.push({ side: sideOf(c, src), errno: e.errnoName ?? String(e.errno), ts: e.ts });
        break;
      case 'inet_sock_set_state':
        c.states.push({ side: sideOf(c, src), from: e.oldState ?? null, to: e.state, ts: e.ts });
        break;
      case 'tcp_retransmit_skb':
      case 'tcp_retransmit_synack':
        c.retransmits.push({ side: sideOf(c, src), event: e.event, state: e.state, ts: e.ts });
        break;
      default:
        break;
    }
  }
  // RST segments no kernel event accounts for: not sent by the TCP stack.
  for (const p of rstPackets) {
    if (paired.has(p)) continue;
    const c = conns.find(p.src, p.dst, p.ts, orient(p.src, p.dst))!;
    c.resets.push({ by: sideOf(c, p.src), role: names.role(p.src), from: p.src, to: p.dst, kernel: null, wire: { frame: p.frame, ts: p.ts, flags: p.flags, seq: p.seq, ack: p.ack } });
  }

  const unattached: TruthCall[] = [];
  const bornOn = new Map<string, TruthConnection>();
  for (const o of input.outcomes) {
    const call: Omit<TruthCall, 'side'> = { role: o.role, call: o.call, sock: o.sock, ret: o.ret, errno: o.errno, ts: o.end };
    if (o.arg !== undefined) call.arg = o.arg;
    if (o.local === null || o.remote === null || o.local.port === 0) {
      unattached.push({ side: 'orig', ...call });
      continue;
    }
    // A socket stays with the connection it was born on (a leaked socket read long after its
    // 4-tuple was reused); the first call is placed by the time it returned: a connect() belongs
    // to the handshake it completed.
    const key = `${o.pid}/${o.sock}`;
    const c = bornOn.get(key) ?? conns.find(o.local, o.remote, o.end, orient(o.local, o.remote))!;
    bornOn.set(key, c);
    c.calls.push({ side: sideOf(c, o.local), ...call });
  }
  for (const c of conns.list) {
    c.resets.sort((a, b) => (a.kernel?.ts ?? a.wire!.ts) - (b.kernel?.ts ?? b.wire!.ts));
    c.diagnosis = compareDiagnosis(c);
  }

  const observed: Observed = {
    resets: conns.list.flatMap((c) => c.resets.map((r) => ({ from: r.role, reason: r.kernel?.reason ?? null, state: r.kernel?.state ?? null, on_wire: r.wire !== null }))),
    calls: input.outcomes.map((o) => ({ role: o.role, call: o.call, errno: o.errno })),
    drops: [...new Set([...conns.list.flatMap((c) => c.drops.map((d) => d.reason ?? 'NOT_SPECIFIED')), ...untupled.map((u) => u.reason ?? 'NOT_SPECIFIED')])],
    socket_errors: [...new Set(conns.list.flatMap((c) => c.socket_errors.map((s) => s.errno)))],
    conn_states: input.records.map((r) => r.conn_state),
    histories: input.records.map((r) => r.history),
  };
  const mismatches = checkExpectation(input.scenario.expect, observed);
  if (input.error !== null) mismatches.unshift(`the scenario failed: ${input.error}`);
  return {
    schema: TRUTH_SCHEMA,
    scenario: { name: input.scenario.name, title: input.scenario.title, story: input.scenario.story, family: input.scenario.family },
    kernel: release(),
    namespace: input.namespace,
    started: input.started,
    ended: input.ended,
    duration_s: Math.round((input.ended - input.started) * 1000) / 1000,
    addresses: { server, client_addr: input.addresses.client },
    sysctls: input.scenario.sysctls ?? {},
    nft: input.nft,
    files: { capture: 'capture.pcap', capture_any: 'capture-any.pcap', events: 'events.jsonl', outcomes: 'outcomes.jsonl', analysis: 'analysis.jsonl' },
    connections: conns.list,
    untupled_events: untupled,
    unattached_calls: unattached,
    expected: input.scenario.expect,
    observed,
    verdict: { ok: mismatches.length === 0, mismatches },
    diagnosis: summarizeDiagnosis(conns.list.flatMap((c) => c.diagnosis)),
    error: input.error,
    kernel_notes: input.kernelNotes,
    lost_events: input.lostEvents,
  };
}
