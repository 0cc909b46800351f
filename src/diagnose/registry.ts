/**
 * The rules, in the order they are asked, and the one entry point: `diagnoseConnection`, run
 * once per finished connection.
 *
 * Every RST of the connection (each side's, in order) gets exactly one finding from the first
 * RST rule that explains it; then every connection rule adds what it sees. Findings that say the
 * same thing (same kind, side and reason: a burst of RSTs answering a burst of segments) are
 * merged. A healthy connection — both sides closed with FINs, or still open, with nothing
 * unusual recorded — is recognised from a few counters without building anything.
 */
import type { Finding } from '../analyze/records.js';
import { formatAddress } from '../dissect/packet.js';
import { type ConnState, connState } from '../tcp/conn-state.js';
import type { Connection } from '../tcp/connection.js';
import type { EndReason } from '../tcp/tracker.js';
import { buildContext, type DiagnosisContext, DiagnosisMemory, endpointKey, type FindingParts, makeFinding, type SideView, tupleKey } from './context.js';
import { challengeAck } from './rules/challenge-ack.js';
import { attemptKey } from './rules/connect-attempt.js';
import { connectTimeout } from './rules/connect-timeout.js';
import { halfCloseStall } from './rules/half-close.js';
import { handshake } from './rules/handshake.js';
import { keepaliveUnanswered } from './rules/keepalive.js';
import { loss } from './rules/loss.js';
import { portReuse } from './rules/port-reuse.js';
import { refused } from './rules/refused.js';
import { retransmissionTimeout } from './rules/retransmission-timeout.js';
import { slowConnect } from './rules/slow-connect.js';
import { activeClose } from './rules/rst-active-close.js';
import { resetAfterClose } from './rules/rst-after-close.js';
import { handshakeRejected } from './rules/rst-handshake-rejected.js';
import { makeCase, type RstRule } from './rules/rst-common.js';
import { invalidSyn } from './rules/rst-invalid-syn.js';
import { keepaliveReset } from './rules/rst-keepalive.js';
import { middleboxReset } from './rules/rst-middlebox.js';
import { noSocket } from './rules/rst-no-socket.js';
import { unexplained } from './rules/rst-unexplained.js';
import { timewaitAssassination } from './rules/timewait-assassination.js';
import { unansweredRequest } from './rules/unanswered-request.js';
import { unreachable } from './rules/unreachable.js';
import { windowFull } from './rules/window-full.js';
import { zeroWindow } from './rules/zero-window.js';

export { DiagnosisMemory };

/** Asked in this order for each RST; the first answer wins. */
export const RST_RULES: ReadonlyArray<{ name: string; rule: RstRule }> = [
  { name: 'rst-middlebox', rule: middleboxReset },
  { name: 'refused', rule: refused },
  { name: 'port-reuse', rule: portReuse },
  { name: 'rst-keepalive', rule: keepaliveReset },
  { name: 'timewait-assassination', rule: timewaitAssassination },
  { name: 'rst-after-close', rule: resetAfterClose },
  { name: 'rst-invalid-syn', rule: invalidSyn },
  { name: 'rst-handshake-rejected', rule: handshakeRejected },
  { name: 'rst-no-socket', rule: noSocket },
  { name: 'rst-active-close', rule: activeClose },
  { name: 'rst-unexplained', rule: unexplained },
];

export type ConnectionRule = (ctx: DiagnosisContext, out: FindingParts[]) => void;

/** Asked for every connection that is not obviously healthy; each may add findings. */
export const CONNECTION_RULES: ReadonlyArray<{ name: string; rule: ConnectionRule }> = [
  { name: 'connect-timeout', rule: connectTimeout },
  { name: 'slow-connect', rule: slowConnect },
  { name: 'handshake', rule: handshake },
  { name: 'unreachable', rule: unreachable },
  { name: 'retransmission-timeout', rule: retransmissionTimeout },
  { name: 'keepalive', rule: keepaliveUnanswered },
  { name: 'half-close', rule: halfCloseStall },
  { name: 'unanswered-request', rule: unansweredRequest },
  { name: 'zero-window', rule: zeroWindow },
  { name: 'window-full', rule: windowFull },
  { name: 'challenge-ack', rule: challengeAck },
  { name: 'loss', rule: loss },
];

/**
 * Nothing unusual: no RST, retransmission, probe, zero or full window (no RareEvidence), no ICMP,
 * no capture gap, an answer if the originator said something, and a plain ending.
 */
function obviouslyHealthy(c: Connection): boolean {
  const o = c.orig.ev;
  const r = c.resp.ev;
  if (o.rare !== null || r.rare !== null || c.icmpErrors !== 0 || c.missedBytes !== 0) return false;
  if (o.segments === 0 || r.segments === 0) return false;
  if (r.synAcks > 0 && o.firstAckFrame === 0) return false;
  if (o.dataBytes > 0 && r.dataBytes === 0) return false;
  return (o.fins > 0) === (r.fins > 0);
}

/** One finding for each RST `sender` sent, from the first RST rule that explains it. */
function rstFindings(ctx: DiagnosisContext, sender: SideView, receiver: SideView, out: FindingParts[]): void {
  const rsts = sender.ev.rare?.rsts;
  if (rsts === undefined) return;
  for (let i = 0; i < rsts.length; i++) {
    const rc = makeCase(ctx, sender, receiver, rsts[i]!, i > 0 ? rsts[i - 1]! : null);
    for (let j = 0; j < RST_RULES.length; j++) {
      const f = RST_RULES[j]!.rule(rc);
      if (f !== null) {
        out.push(f);
        break;
      }
    }
  }
}

/**
 * Merges the findings that say the same thing, in time order (stable: equal times keep the rules'
 * order). In place: most connections have one finding, a few have two or three.
 */
function merge(parts: FindingParts[]): FindingParts[] {
  if (parts.length < 2) return parts;
  let n = 0;
  for (let i = 0; i < parts.length; i++) {
    const p = parts[i]!;
    let j = 0;
    while (j < n && !(parts[j]!.kind === p.kind && parts[j]!.by === p.by && parts[j]!.reason === p.reason)) j++;
    if (j < n) {
      parts[j]!.frames = parts[j]!.frames.concat(p.frames);
      continue;
    }
    // Insertion sort by time: the list is a few findings long.
    let k = n++;
    while (k > 0 && parts[k - 1]!.time > p.time) {
      parts[k] = parts[k - 1]!;
      k--;
    }
    parts[k] = p;
  }
  parts.length = n;
  return parts;
}

/**
 * Remembers how a reused 4-tuple's old incarnation ended, for the connection that reused it.
 * (Listeners are noted as their SYN-ACKs go by: analyze.ts.)
 */
function remember(c: Connection, memory: DiagnosisMemory): void {
  const orig = endpointKey(formatAddress(c.origA0, c.origA1, c.origA2, c.origA3), c.origPort);
  const resp = endpointKey(formatAddress(c.respA0, c.respA1, c.respA2, c.respA3), c.respPort);
  const finBy: string[] = [];
  const rstBy: string[] = [];
  if (c.orig.ev.fins > 0) finBy.push(orig);
  if (c.resp.ev.fins > 0) finBy.push(resp);
  if (c.orig.ev.rstCount > 0) rstBy.push(orig);
  if (c.resp.ev.rstCount > 0) rstBy.push(resp);
  memory.notePrevious(tupleKey(c), { finBy, rstBy, endTime: c.lastPacketTime });
}

/**
 * The findings for one finished connection. `observedUntil`: the time up to which the capture
 * watched it (the capture's end, or when Zeek's timers removed it).
 */
export function diagnoseConnection(
  c: Connection,
  endReason: EndReason,
  observedUntil: number,
  memory: DiagnosisMemory,
  state?: ConnState,
  addrs?: { orig: string; resp: string },
): Finding[] {
  if (endReason === 'reused') remember(c, memory);
  // A healthy-looking record may be the answered end of a connect() Zeek's timer split: slow-connect tells it.
  if (obviouslyHealthy(c) && !(c.orig.ev.syns > 0 && memory.hasAttempt(attemptKey(c, c.orig.ev.synIsn)))) return [];
  const ctx = buildContext(c, state ?? connState(c), endReason, observedUntil, memory, addrs?.orig, addrs?.resp);
  const parts: FindingParts[] = [];
  rstFindings(ctx, ctx.orig, ctx.resp, parts);
  rstFindings(ctx, ctx.resp, ctx.orig, parts);
  for (let i = 0; i < CONNECTION_RULES.length; i++) CONNECTION_RULES[i]!.rule(ctx, parts);
  return merge(parts).map(makeFinding);
}
