/**
 * JSON Lines output. Connection records are written by hand, field by field, through a
 * JsonEncoder: with tens of thousands of connections per second this is several times faster
 * than JSON.stringify on the object. The names and strings written with `raw` (addresses we
 * formatted, history letters, state names) cannot contain anything that needs escaping
 * (history letters come from a fixed alphabet). test/json-output.test.ts checks the result
 * against JSON.stringify.
 */
import type { CallOutcome, ConnectionRecord, DirectionStats, Finding } from '../analyze/records.js';
import { JsonEncoder } from './json-encoder.js';

function writeCalls(e: JsonEncoder, list: CallOutcome[]): void {
  e.raw('[');
  for (let i = 0; i < list.length; i++) {
    const c = list[i]!;
    e.raw(i === 0 ? '{"call":' : ',{"call":');
    e.str(c.call);
    e.raw(',"errno":');
    e.strOrNull(c.errno);
    if (c.note !== undefined) {
      e.raw(',"note":');
      e.str(c.note);
    }
    e.raw('}');
  }
  e.raw(']');
}

/**
 * One finding as JSON.stringify would write it. Findings built by src/diagnose always have every
 * field, in this order, and `continues` last only when a finding has it; anything else (a
 * hand-made finding without the optional fields) goes through JSON.stringify itself.
 */
function writeFinding(e: JsonEncoder, f: Finding): void {
  if (f.state === undefined || f.candidates === undefined || f.calls === undefined || f.time === undefined || f.rst_text === undefined || !Number.isFinite(f.confidence)) {
    e.raw(JSON.stringify(f));
    return;
  }
  e.raw('{"kind":');
  e.str(f.kind);
  e.raw(',"by":');
  e.str(f.by);
  e.raw(',"reason":');
  e.str(f.reason);
  e.raw(',"confidence":');
  e.num(f.confidence);
  e.raw(',"frames":[');
  for (let i = 0; i < f.frames.length; i++) {
    if (i > 0) e.raw(',');
    e.num(f.frames[i]!);
  }
  e.raw('],"errno":{"orig":');
  e.strOrNull(f.errno.orig);
  e.raw(',"resp":');
  e.strOrNull(f.errno.resp);
  e.raw('},"summary":');
  e.str(f.summary);
  e.raw(',"advice":');
  e.str(f.advice);
  e.raw(',"state":');
  e.strOrNull(f.state);
  e.raw(',"candidates":[');
  for (let i = 0; i < f.candidates.length; i++) {
    if (i > 0) e.raw(',');
    e.str(f.candidates[i]!);
  }
  e.raw('],"calls":{"orig":');
  writeCalls(e, f.calls.orig);
  e.raw(',"resp":');
  writeCalls(e, f.calls.resp);
  e.raw('},"time":');
  e.num(f.time);
  e.raw(',"rst_text":');
  e.strOrNull(f.rst_text);
  if (f.continues !== undefined) {
    e.raw(',"continues":[');
    for (let i = 0; i < f.continues.length; i++) {
      if (i > 0) e.raw(',');
      e.num(f.continues[i]!);
    }
    e.raw(']');
  }
  e.raw('}');
}

function writeDirectionStats(e: JsonEncoder, d: DirectionStats): void {
  e.raw('{"retrans_segs":');
  e.num(d.retrans_segs);
  e.raw(',"retrans_bytes":');
  e.num(d.retrans_bytes);
  e.raw(',"out_of_order_segs":');
  e.num(d.out_of_order_segs);
  e.raw(',"zero_window_segs":');
  e.num(d.zero_window_segs);
  e.raw(',"window_full_segs":');
  e.num(d.window_full_segs);
  e.raw(',"missed_bytes":');
  e.num(d.missed_bytes);
  e.raw('}');
}

/** Appends one connection record, as JSON.stringify would write it, to the encoder. */
export function writeConnectionJson(e: JsonEncoder, r: ConnectionRecord): void {
  e.raw('{"type":"connection","version":');
  e.num(r.version);
  e.raw(',"id":');
  e.num(r.id);
  e.raw(',"orig":{"addr":"');
  e.raw(r.orig.addr);
  e.raw('","port":');
  e.num(r.orig.port);
  e.raw('},"resp":{"addr":"');
  e.raw(r.resp.addr);
  e.raw('","port":');
  e.num(r.resp.port);
  e.raw('},"ip_version":');
  e.num(r.ip_version);
  e.raw(',"tunnel_depth":');
  e.num(r.tunnel_depth);
  e.raw(',"first":');
  e.num(r.first);
  e.raw(',"last":');
  e.num(r.last);
  e.raw(',"duration":');
  e.numOrNull(r.duration);
  e.raw(',"conn_state":"');
  e.raw(r.conn_state);
  e.raw('","history":"');
  e.raw(r.history);
  e.raw('","orig_pkts":');
  e.num(r.orig_pkts);
  e.raw(',"resp_pkts":');
  e.num(r.resp_pkts);
  e.raw(',"orig_bytes":');
  e.numOrNull(r.orig_bytes);
  e.raw(',"resp_bytes":');
  e.numOrNull(r.resp_bytes);
  e.raw(',"missed_bytes":');
  e.num(r.missed_bytes);
  e.raw(',"orig_ip_bytes":');
  e.num(r.orig_ip_bytes);
  e.raw(',"resp_ip_bytes":');
  e.num(r.resp_ip_bytes);
  e.raw(',"orig_state":"');
  e.raw(r.orig_state);
  e.raw('","resp_state":"');
  e.raw(r.resp_state);
  e.raw('","packets":{"first":');
  e.num(r.packets.first);
  e.raw(',"last":');
  e.num(r.packets.last);
  e.raw('},"end_reason":"');
  e.raw(r.end_reason);
  e.raw('","weirds":');
  e.raw(r.weirds.length === 0 ? '[]' : JSON.stringify(r.weirds));
  e.raw(',"icmp":');
  e.raw(r.icmp === null ? 'null' : JSON.stringify(r.icmp));
  e.raw(',"stats":');
  if (r.stats === null) e.raw('null');
  else {
    e.raw('{"orig":');
    writeDirectionStats(e, r.stats.orig);
    e.raw(',"resp":');
    writeDirectionStats(e, r.stats.resp);
    e.raw('}');
  }
  e.raw(',"findings":[');
  for (let i = 0; i < r.findings.length; i++) {
    if (i > 0) e.raw(',');
    writeFinding(e, r.findings[i]!);
  }
  e.raw(']}');
}

const scratch = new JsonEncoder();

/** One connection record as a JSON string (what writeConnectionJson writes). */
export function connectionToJson(r: ConnectionRecord): string {
  scratch.reset();
  writeConnectionJson(scratch, r);
  return scratch.toString();
}
