/**
 * JSON Lines output. Connection records are written by hand, field by field, through a
 * JsonEncoder: with tens of thousands of connections per second this is several times faster
 * than JSON.stringify on the object. The strings written with `raw` (addresses we formatted,
 * history letters from a fixed alphabet) cannot contain anything that needs escaping.
 * test/json-output.test.ts checks the result against JSON.stringify.
 */
import type { CallOutcome, ConnectionRecord, DirectionStats, Finding } from '../analyze/records.js';
import { JsonEncoder, literal } from './json-encoder.js';

/** Keys and punctuation, encoded once (see literal). */
const L = {
  open: literal('['),
  close: literal(']'),
  comma: literal(','),
  closeObject: literal('}'),
  emptyList: literal('[]'),
  null: literal('null'),
  call: literal('{"call":'),
  nextCall: literal(',{"call":'),
  errno: literal(',"errno":'),
  note: literal(',"note":'),
  kind: literal('{"kind":'),
  by: literal(',"by":'),
  reason: literal(',"reason":'),
  confidence: literal(',"confidence":'),
  frames: literal(',"frames":['),
  errnoOrig: literal('],"errno":{"orig":'),
  resp: literal(',"resp":'),
  summary: literal('},"summary":'),
  advice: literal(',"advice":'),
  state: literal(',"state":'),
  candidates: literal(',"candidates":['),
  callsOrig: literal('],"calls":{"orig":'),
  time: literal('},"time":'),
  rstText: literal(',"rst_text":'),
  continues: literal(',"continues":['),
  retransSegs: literal('{"retrans_segs":'),
  retransBytes: literal(',"retrans_bytes":'),
  outOfOrderSegs: literal(',"out_of_order_segs":'),
  zeroWindowSegs: literal(',"zero_window_segs":'),
  windowFullSegs: literal(',"window_full_segs":'),
  missedBytes: literal(',"missed_bytes":'),
  connection: literal('{"type":"connection","version":'),
  id: literal(',"id":'),
  connectionV1: literal('{"type":"connection","version":1,"id":'),
  origAddr: literal(',"orig":{"addr":"'),
  port: literal('","port":'),
  respAddr: literal('},"resp":{"addr":"'),
  ipVersion: literal('},"ip_version":'),
  tunnelDepth: literal(',"tunnel_depth":'),
  first: literal(',"first":'),
  untunnelledV4: literal('},"ip_version":4,"tunnel_depth":0,"first":'),
  last: literal(',"last":'),
  duration: literal(',"duration":'),
  connState: literal(',"conn_state":'),
  history: literal(',"history":"'),
  origPkts: literal('","orig_pkts":'),
  respPkts: literal(',"resp_pkts":'),
  origBytes: literal(',"orig_bytes":'),
  respBytes: literal(',"resp_bytes":'),
  origIpBytes: literal(',"orig_ip_bytes":'),
  respIpBytes: literal(',"resp_ip_bytes":'),
  origState: literal(',"orig_state":'),
  respState: literal(',"resp_state":'),
  packetsFirst: literal(',"packets":{"first":'),
  endReason: literal('},"end_reason":'),
  weirds: literal(',"weirds":'),
  icmp: literal(',"icmp":'),
  stats: literal(',"stats":'),
  statsOrig: literal('{"orig":'),
  findings: literal(',"findings":['),
  endRecord: literal(']}'),
  plainEnd: literal(',"weirds":[],"icmp":null,"stats":null,"findings":[]}'),
};

function writeCalls(e: JsonEncoder, list: readonly CallOutcome[]): void {
  e.lit(L.open);
  for (let i = 0; i < list.length; i++) {
    const c = list[i]!;
    e.lit(i === 0 ? L.call : L.nextCall);
    e.word(c.call);
    e.lit(L.errno);
    e.wordOrNull(c.errno);
    if (c.note !== undefined) {
      e.lit(L.note);
      e.str(c.note);
    }
    e.lit(L.closeObject);
  }
  e.lit(L.close);
}

/**
 * One finding as JSON.stringify would write it. Findings built by src/diagnose always have every
 * field, in this order, and `continues` last only when a finding has it; anything else (a
 * hand-made finding without the optional fields) goes through JSON.stringify itself. Kinds,
 * sides, reason, state, call and errno names come from the rules' vocabularies: written as words.
 */
function writeFinding(e: JsonEncoder, f: Finding): void {
  if (f.state === undefined || f.candidates === undefined || f.calls === undefined || f.time === undefined || f.rst_text === undefined || !Number.isFinite(f.confidence)) {
    e.raw(JSON.stringify(f));
    return;
  }
  e.lit(L.kind);
  e.word(f.kind);
  e.lit(L.by);
  e.word(f.by);
  e.lit(L.reason);
  e.word(f.reason);
  e.lit(L.confidence);
  e.num(f.confidence);
  e.lit(L.frames);
  for (let i = 0; i < f.frames.length; i++) {
    if (i > 0) e.lit(L.comma);
    e.num(f.frames[i]!);
  }
  e.lit(L.errnoOrig);
  e.wordOrNull(f.errno.orig);
  e.lit(L.resp);
  e.wordOrNull(f.errno.resp);
  e.lit(L.summary);
  e.str(f.summary);
  e.lit(L.advice);
  // Not a word: some rules name addresses in their advice, and a port scan's one-off sentences
  // would fill the word cache.
  e.str(f.advice);
  e.lit(L.state);
  e.wordOrNull(f.state);
  e.lit(L.candidates);
  for (let i = 0; i < f.candidates.length; i++) {
    if (i > 0) e.lit(L.comma);
    e.word(f.candidates[i]!);
  }
  e.lit(L.callsOrig);
  writeCalls(e, f.calls.orig);
  e.lit(L.resp);
  writeCalls(e, f.calls.resp);
  e.lit(L.time);
  e.num(f.time);
  e.lit(L.rstText);
  e.strOrNull(f.rst_text);
  if (f.continues !== undefined) {
    e.lit(L.continues);
    for (let i = 0; i < f.continues.length; i++) {
      if (i > 0) e.lit(L.comma);
      e.num(f.continues[i]!);
    }
    e.lit(L.close);
  }
  e.lit(L.closeObject);
}

function writeDirectionStats(e: JsonEncoder, d: DirectionStats): void {
  e.lit(L.retransSegs);
  e.num(d.retrans_segs);
  e.lit(L.retransBytes);
  e.num(d.retrans_bytes);
  e.lit(L.outOfOrderSegs);
  e.num(d.out_of_order_segs);
  e.lit(L.zeroWindowSegs);
  e.num(d.zero_window_segs);
  e.lit(L.windowFullSegs);
  e.num(d.window_full_segs);
  e.lit(L.missedBytes);
  e.num(d.missed_bytes);
  e.lit(L.closeObject);
}

/** Appends one connection record, as JSON.stringify would write it, to the encoder. */
export function writeConnectionJson(e: JsonEncoder, r: ConnectionRecord): void {
  if (r.version === 1) e.lit(L.connectionV1);
  else {
    e.lit(L.connection);
    e.num(r.version);
    e.lit(L.id);
  }
  e.num(r.id);
  e.lit(L.origAddr);
  e.raw(r.orig.addr);
  e.lit(L.port);
  e.num(r.orig.port);
  e.lit(L.respAddr);
  e.raw(r.resp.addr);
  e.lit(L.port);
  e.num(r.resp.port);
  if (r.ip_version === 4 && r.tunnel_depth === 0) e.lit(L.untunnelledV4);
  else {
    e.lit(L.ipVersion);
    e.num(r.ip_version);
    e.lit(L.tunnelDepth);
    e.num(r.tunnel_depth);
    e.lit(L.first);
  }
  e.num(r.first);
  e.lit(L.last);
  e.num(r.last);
  e.lit(L.duration);
  e.numOrNull(r.duration);
  e.lit(L.connState);
  e.word(r.conn_state);
  e.lit(L.history);
  e.raw(r.history);
  e.lit(L.origPkts);
  e.num(r.orig_pkts);
  e.lit(L.respPkts);
  e.num(r.resp_pkts);
  e.lit(L.origBytes);
  e.numOrNull(r.orig_bytes);
  e.lit(L.respBytes);
  e.numOrNull(r.resp_bytes);
  e.lit(L.missedBytes);
  e.num(r.missed_bytes);
  e.lit(L.origIpBytes);
  e.num(r.orig_ip_bytes);
  e.lit(L.respIpBytes);
  e.num(r.resp_ip_bytes);
  e.lit(L.origState);
  e.word(r.orig_state);
  e.lit(L.respState);
  e.word(r.resp_state);
  e.lit(L.packetsFirst);
  e.num(r.packets.first);
  e.lit(L.last);
  e.num(r.packets.last);
  e.lit(L.endReason);
  e.word(r.end_reason);
  if (r.weirds.length === 0 && r.icmp === null && r.stats === null && r.findings.length === 0) {
    e.lit(L.plainEnd);
    return;
  }
  e.lit(L.weirds);
  if (r.weirds.length === 0) e.lit(L.emptyList);
  else e.raw(JSON.stringify(r.weirds));
  e.lit(L.icmp);
  if (r.icmp === null) e.lit(L.null);
  else e.raw(JSON.stringify(r.icmp));
  e.lit(L.stats);
  if (r.stats === null) e.lit(L.null);
  else {
    e.lit(L.statsOrig);
    writeDirectionStats(e, r.stats.orig);
    e.lit(L.resp);
    writeDirectionStats(e, r.stats.resp);
    e.lit(L.closeObject);
  }
  e.lit(L.findings);
  for (let i = 0; i < r.findings.length; i++) {
    if (i > 0) e.lit(L.comma);
    writeFinding(e, r.findings[i]!);
  }
  e.lit(L.endRecord);
}

const scratch = new JsonEncoder();

/** One connection record as a JSON string (what writeConnectionJson writes). */
export function connectionToJson(r: ConnectionRecord): string {
  scratch.reset();
  writeConnectionJson(scratch, r);
  return scratch.toString();
}
