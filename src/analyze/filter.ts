/**
 * Which connections the user asked to see: --host (either end), --port (either end), --connection.
 * Filters apply to what is reported; the summary always counts the whole capture.
 */
import { TsleuthError } from '../errors.js';
import { formatAddress, parseAddress } from '../dissect/packet.js';
import type { ConnectionRecord } from './records.js';

export interface ConnectionFilter {
  hosts?: string[];
  ports?: number[];
  connectionId?: number;
}

/** Returns a predicate, normalising addresses so "::ffff:10.0.0.1" and "10.0.0.1" match alike. */
export function compileFilter(f: ConnectionFilter): (r: ConnectionRecord) => boolean {
  const hosts = (f.hosts ?? []).map((h) => {
    const w = parseAddress(h);
    if (w === null) throw new TsleuthError('TSL_ERR_USAGE', `--host ${JSON.stringify(h)} is not an IPv4 or IPv6 address`);
    return formatAddress(...w);
  });
  const ports = f.ports ?? [];
  const id = f.connectionId;
  return (r) =>
    (id === undefined || r.id === id) &&
    (hosts.length === 0 || hosts.includes(r.orig.addr) || hosts.includes(r.resp.addr)) &&
    (ports.length === 0 || ports.includes(r.orig.port) || ports.includes(r.resp.port));
}
