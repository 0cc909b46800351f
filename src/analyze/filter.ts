/**
 * Which connections the user asked to see: --host (either end; an address or a network), --port
 * (either end), --connection.
 * Filters apply to what is reported; the summary always counts the whole capture.
 */
import { TsleuthError } from '../errors.js';
import { parseAddress } from '../dissect/packet.js';
import type { ConnectionRecord } from './records.js';

export interface ConnectionFilter {
  hosts?: string[];
  ports?: number[];
  connectionId?: number;
}

type Words = [number, number, number, number];

/** An address or a network: the address's four words and how many leading bits must match. */
interface HostPattern {
  words: Words;
  bits: number;
}

/** "10.0.0.1", "fd00::1", "::ffff:10.0.0.1", or a network "10.0.0.0/8", "fd00::/8". */
function parseHost(text: string): HostPattern {
  const bad = (): TsleuthError =>
    new TsleuthError('TSL_ERR_USAGE', `--host ${JSON.stringify(text)} is not an IPv4 or IPv6 address or network (ADDR or ADDR/PREFIX)`);
  const [addr, prefix, extra] = text.split('/');
  const words = parseAddress(addr!);
  if (words === null || extra !== undefined) throw bad();
  // An IPv4 address is held as ::ffff:a.b.c.d: its prefix counts from bit 96.
  const v4 = words[0] === 0 && words[1] === 0 && words[2] === 0xffff && !addr!.includes(':');
  const max = v4 ? 32 : 128;
  if (prefix !== undefined && !/^\d{1,3}$/.test(prefix)) throw bad();
  const bits = prefix === undefined ? max : Number(prefix);
  if (bits > max) throw bad();
  return { words, bits: v4 ? 96 + bits : bits };
}

function matches(p: HostPattern, w: Words): boolean {
  for (let i = 0, left = p.bits; left > 0; i++, left -= 32) {
    const mask = left >= 32 ? -1 : ~(-1 >>> left);
    if (((p.words[i]! ^ w[i]!) & mask) !== 0) return false;
  }
  return true;
}

/** Returns a predicate; addresses are compared as numbers, so "::ffff:10.0.0.1" and "10.0.0.1" match alike. */
export function compileFilter(f: ConnectionFilter): (r: ConnectionRecord) => boolean {
  const hosts = (f.hosts ?? []).map(parseHost);
  const ports = f.ports ?? [];
  const id = f.connectionId;
  const hostMatches = (addr: string): boolean => {
    const w = parseAddress(addr);
    return w !== null && hosts.some((p) => matches(p, w));
  };
  return (r) =>
    (id === undefined || r.id === id) &&
    (hosts.length === 0 || hostMatches(r.orig.addr) || hostMatches(r.resp.addr)) &&
    (ports.length === 0 || ports.includes(r.orig.port) || ports.includes(r.resp.port));
}
