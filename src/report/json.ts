/**
 * JSON Lines output. Connection records are serialised by hand: with tens of thousands of
 * connections per second this is several times faster than JSON.stringify on the object, and
 * the strings it writes unquoted (addresses we formatted, history letters, state names) cannot
 * contain anything that needs escaping (history letters come from a fixed alphabet).
 * test/json-output.test.ts checks it against JSON.stringify.
 */
import type { CallOutcome, ConnectionRecord, DirectionStats, Finding } from '../analyze/records.js';

function num(n: number | null): string {
  return n === null ? 'null' : String(n);
}

const str = JSON.stringify as (s: string) => string;

function calls(list: CallOutcome[]): string {
  let out = '[';
  for (let i = 0; i < list.length; i++) {
    const c = list[i]!;
    if (i > 0) out += ',';
    out += `{"call":${str(c.call)},"errno":${c.errno === null ? 'null' : str(c.errno)}${c.note === undefined ? '' : `,"note":${str(c.note)}`}}`;
  }
  return `${out}]`;
}

/**
 * One finding as JSON.stringify would write it. Findings built by src/diagnose always have every
 * field, in this order, and `continues` last only when a finding has it; anything else (a
 * hand-made finding without the optional fields) goes through JSON.stringify itself.
 */
function findingToJson(f: Finding): string {
  if (f.state === undefined || f.candidates === undefined || f.calls === undefined || f.time === undefined || f.rst_text === undefined || !Number.isFinite(f.confidence)) {
    return JSON.stringify(f);
  }
  let frames = '[';
  for (let i = 0; i < f.frames.length; i++) frames += i === 0 ? String(f.frames[i]) : `,${f.frames[i]}`;
  let candidates = '[';
  for (let i = 0; i < f.candidates.length; i++) candidates += (i === 0 ? '' : ',') + str(f.candidates[i]!);
  return (
    `{"kind":${str(f.kind)},"by":"${f.by}","reason":${str(f.reason)},"confidence":${f.confidence},"frames":${frames}],` +
    `"errno":{"orig":${f.errno.orig === null ? 'null' : str(f.errno.orig)},"resp":${f.errno.resp === null ? 'null' : str(f.errno.resp)}},` +
    `"summary":${str(f.summary)},"advice":${str(f.advice)},"state":${f.state === null ? 'null' : str(f.state)},"candidates":${candidates}],` +
    `"calls":{"orig":${calls(f.calls.orig)},"resp":${calls(f.calls.resp)}},"time":${f.time},"rst_text":${f.rst_text === null ? 'null' : str(f.rst_text)}` +
    `${f.continues === undefined ? '' : `,"continues":${JSON.stringify(f.continues)}`}}`
  );
}

function findingsToJson(list: Finding[]): string {
  if (list.length === 0) return '[]';
  let out = '[';
  for (let i = 0; i < list.length; i++) out += (i === 0 ? '' : ',') + findingToJson(list[i]!);
  return `${out}]`;
}

function directionStatsToJson(d: DirectionStats): string {
  return (
    `{"retrans_segs":${d.retrans_segs},"retrans_bytes":${d.retrans_bytes},"out_of_order_segs":${d.out_of_order_segs},` +
    `"zero_window_segs":${d.zero_window_segs},"window_full_segs":${d.window_full_segs},"missed_bytes":${d.missed_bytes}}`
  );
}

export function connectionToJson(r: ConnectionRecord): string {
  return (
    `{"type":"connection","version":${r.version},"id":${r.id},` +
    `"orig":{"addr":"${r.orig.addr}","port":${r.orig.port}},"resp":{"addr":"${r.resp.addr}","port":${r.resp.port}},` +
    `"ip_version":${r.ip_version},"tunnel_depth":${r.tunnel_depth},"first":${r.first},"last":${r.last},"duration":${num(r.duration)},` +
    `"conn_state":"${r.conn_state}","history":"${r.history}",` +
    `"orig_pkts":${r.orig_pkts},"resp_pkts":${r.resp_pkts},"orig_bytes":${num(r.orig_bytes)},"resp_bytes":${num(r.resp_bytes)},` +
    `"missed_bytes":${r.missed_bytes},"orig_ip_bytes":${r.orig_ip_bytes},"resp_ip_bytes":${r.resp_ip_bytes},` +
    `"orig_state":"${r.orig_state}","resp_state":"${r.resp_state}","packets":{"first":${r.packets.first},"last":${r.packets.last}},` +
    `"end_reason":"${r.end_reason}","weirds":${r.weirds.length === 0 ? '[]' : JSON.stringify(r.weirds)},` +
    `"icmp":${r.icmp === null ? 'null' : JSON.stringify(r.icmp)},` +
    `"stats":${r.stats === null ? 'null' : `{"orig":${directionStatsToJson(r.stats.orig)},"resp":${directionStatsToJson(r.stats.resp)}}`},` +
    `"findings":${findingsToJson(r.findings)}}`
  );
}
