/**
 * JSON Lines output. Connection records are serialised by hand: with tens of thousands of
 * connections per second this is several times faster than JSON.stringify on the object, and
 * the strings it writes unquoted (addresses we formatted, history letters, state names) cannot
 * contain anything that needs escaping (history letters come from a fixed alphabet).
 * test/json-output.test.ts checks it against JSON.stringify.
 */
import type { ConnectionRecord } from '../analyze/records.js';

function num(n: number | null): string {
  return n === null ? 'null' : String(n);
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
    `"icmp":${r.icmp === null ? 'null' : JSON.stringify(r.icmp)},"findings":${r.findings.length === 0 ? '[]' : JSON.stringify(r.findings)}}`
  );
}
