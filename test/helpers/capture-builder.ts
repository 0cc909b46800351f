/**
 * Builds packets and capture files byte by byte, so reader and dissector tests can cover every
 * format variant (byte orders, timestamp resolutions, block types, link types) and every kind of
 * damage without depending on a tool that happens to write only one of them.
 */
import { gzipSync } from 'node:zlib';

export interface TcpSegmentSpec {
  src: string;
  dst: string;
  sport: number;
  dport: number;
  seq: number;
  ack?: number;
  /** Flag letters: S F R P A U. */
  flags: string;
  window?: number;
  payload?: Buffer | string;
  /** Raw TCP option bytes (padded to 4 by the builder). */
  options?: number[];
  ttl?: number;
  ipId?: number;
  /** IPv4 flags and fragment offset (default 0x4000: DF). */
  fragment?: number;
}

function ipv4Bytes(a: string): number[] {
  return a.split('.').map(Number);
}

function ipv6Bytes(a: string): number[] {
  const [h, t] = a.split('::');
  const hp = h ? h.split(':') : [];
  const tp = t !== undefined && t !== '' ? t.split(':') : [];
  const groups = [...hp, ...new Array(8 - hp.length - tp.length).fill('0'), ...tp].map((g) => parseInt(g, 16));
  return groups.flatMap((g) => [g >> 8, g & 255]);
}

function checksum(bytes: number[]): number {
  let s = 0;
  for (let i = 0; i < bytes.length; i += 2) s += (bytes[i]! << 8) | (bytes[i + 1] ?? 0);
  while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
  return ~s & 0xffff;
}

const FLAG_BITS: Record<string, number> = { F: 1, S: 2, R: 4, P: 8, A: 16, U: 32 };

/** A TCP header + payload with a correct checksum for the given pseudo-header addresses. */
export function tcpSegment(s: TcpSegmentSpec): number[] {
  const opts = [...(s.options ?? [])];
  while (opts.length % 4 !== 0) opts.push(0);
  const payload = [...(typeof s.payload === 'string' ? Buffer.from(s.payload) : (s.payload ?? Buffer.alloc(0)))];
  const hl = 20 + opts.length;
  let flags = 0;
  for (const ch of s.flags) flags |= FLAG_BITS[ch] ?? 0;
  const ack = s.ack ?? 0;
  const h = [
    s.sport >> 8, s.sport & 255, s.dport >> 8, s.dport & 255,
    (s.seq >>> 24) & 255, (s.seq >>> 16) & 255, (s.seq >>> 8) & 255, s.seq & 255,
    (ack >>> 24) & 255, (ack >>> 16) & 255, (ack >>> 8) & 255, ack & 255,
    (hl / 4) << 4, flags, ((s.window ?? 65535) >> 8) & 255, (s.window ?? 65535) & 255,
    0, 0, 0, 0,
    ...opts, ...payload,
  ];
  const v6 = s.src.includes(':');
  const src = v6 ? ipv6Bytes(s.src) : ipv4Bytes(s.src);
  const dst = v6 ? ipv6Bytes(s.dst) : ipv4Bytes(s.dst);
  const len = h.length;
  const pseudo = v6 ? [...src, ...dst, 0, 0, len >> 8, len & 255, 0, 0, 0, 6] : [...src, ...dst, 0, 6, len >> 8, len & 255];
  const c = checksum([...pseudo, ...h]);
  h[16] = c >> 8;
  h[17] = c & 255;
  return h;
}

/** An IPv4 (or IPv6, by address) packet around a transport payload. */
export function ipPacket(src: string, dst: string, proto: number, transport: number[], opts: { ttl?: number; id?: number; ipOptions?: number[]; fragment?: number } = {}): number[] {
  if (src.includes(':')) {
    const len = transport.length;
    return [0x60, 0, 0, 0, len >> 8, len & 255, proto, opts.ttl ?? 64, ...ipv6Bytes(src), ...ipv6Bytes(dst), ...transport];
  }
  const o = [...(opts.ipOptions ?? [])];
  while (o.length % 4 !== 0) o.push(0);
  const hl = 20 + o.length;
  const total = hl + transport.length;
  const id = opts.id ?? 1;
  const frag = opts.fragment ?? 0x4000;
  const h = [0x40 | (hl / 4), 0, total >> 8, total & 255, id >> 8, id & 255, frag >> 8, frag & 255, opts.ttl ?? 64, proto, 0, 0, ...ipv4Bytes(src), ...ipv4Bytes(dst), ...o];
  const c = checksum(h);
  h[10] = c >> 8;
  h[11] = c & 255;
  return [...h, ...transport];
}

export function tcpIpPacket(s: TcpSegmentSpec): number[] {
  return ipPacket(s.src, s.dst, 6, tcpSegment(s), { ttl: s.ttl, id: s.ipId, fragment: s.fragment });
}

export function ethernet(ipPkt: number[], etherType = -1, vlanTags: number[] = []): number[] {
  const et = etherType >= 0 ? etherType : ipPkt[0]! >> 4 === 6 ? 0x86dd : 0x0800;
  const tags = vlanTags.flatMap((tpid, i) => [tpid >> 8, tpid & 255, 0, 10 + i]);
  return [2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, ...tags, et >> 8, et & 255, ...ipPkt];
}

export interface FrameSpec {
  ts: number;
  data: number[] | Buffer;
  origLen?: number;
  /** pcapng interface index. */
  iface?: number;
}

function u32(v: number, be: boolean): number[] {
  return be ? [(v >>> 24) & 255, (v >>> 16) & 255, (v >>> 8) & 255, v & 255] : [v & 255, (v >>> 8) & 255, (v >>> 16) & 255, (v >>> 24) & 255];
}
function u16(v: number, be: boolean): number[] {
  return be ? [(v >> 8) & 255, v & 255] : [v & 255, (v >> 8) & 255];
}

export interface PcapOptions {
  bigEndian?: boolean;
  nanoseconds?: boolean;
  linkType?: number;
  snaplen?: number;
}

export function pcapFile(frames: FrameSpec[], o: PcapOptions = {}): Buffer {
  const be = o.bigEndian ?? false;
  const out: number[] = [...u32(o.nanoseconds ? 0xa1b23c4d : 0xa1b2c3d4, be), ...u16(2, be), ...u16(4, be), ...u32(0, be), ...u32(0, be), ...u32(o.snaplen ?? 262144, be), ...u32(o.linkType ?? 1, be)];
  for (const f of frames) {
    const data = [...f.data];
    const sec = Math.floor(f.ts);
    const frac = Math.round((f.ts - sec) * (o.nanoseconds ? 1e9 : 1e6));
    out.push(...u32(sec, be), ...u32(frac, be), ...u32(data.length, be), ...u32(f.origLen ?? data.length, be), ...data);
  }
  return Buffer.from(out);
}

export interface PcapngInterface {
  linkType: number;
  snaplen?: number;
  /** if_tsresol byte (default 6 = microseconds). */
  tsresol?: number;
}

export interface PcapngSection {
  bigEndian?: boolean;
  interfaces: PcapngInterface[];
  frames: FrameSpec[];
  /** Which block type carries the frames: EPB (default), SPB (interface 0 only) or the obsolete PB. */
  blockType?: 'epb' | 'spb' | 'pb';
  /** Extra unknown blocks to skip, inserted before the frames. */
  unknownBlocks?: number;
}

function block(type: number, body: number[], be: boolean): number[] {
  const pad = [...body];
  while (pad.length % 4 !== 0) pad.push(0);
  const total = pad.length + 12;
  return [...u32(type, be), ...u32(total, be), ...pad, ...u32(total, be)];
}

export function pcapngFile(sections: PcapngSection[]): Buffer {
  const out: number[] = [];
  for (const s of sections) {
    const be = s.bigEndian ?? false;
    out.push(...block(0x0a0d0d0a, [...u32(0x1a2b3c4d, be), ...u16(1, be), ...u16(0, be), 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff], be));
    for (const i of s.interfaces) {
      const opts = i.tsresol === undefined ? [] : [...u16(9, be), ...u16(1, be), i.tsresol, 0, 0, 0];
      out.push(...block(1, [...u16(i.linkType, be), 0, 0, ...u32(i.snaplen ?? 0, be), ...opts, 0, 0, 0, 0], be));
    }
    for (let k = 0; k < (s.unknownBlocks ?? 0); k++) out.push(...block(0x0bad + k, [1, 2, 3, 4, 5], be));
    for (const f of s.frames) {
      const data = [...f.data];
      const iface = s.interfaces[f.iface ?? 0] ?? s.interfaces[0]!;
      const res = iface.tsresol ?? 6;
      const perSec = res & 0x80 ? 2 ** (res & 0x7f) : 10 ** res;
      const units = BigInt(Math.floor(f.ts)) * BigInt(perSec) + BigInt(Math.round((f.ts % 1) * perSec));
      const hi = Number(units >> 32n);
      const lo = Number(units & 0xffffffffn);
      const bt = s.blockType ?? 'epb';
      if (bt === 'epb') out.push(...block(6, [...u32(f.iface ?? 0, be), ...u32(hi, be), ...u32(lo, be), ...u32(data.length, be), ...u32(f.origLen ?? data.length, be), ...data], be));
      else if (bt === 'pb') out.push(...block(2, [...u16(f.iface ?? 0, be), 0, 0, ...u32(hi, be), ...u32(lo, be), ...u32(data.length, be), ...u32(f.origLen ?? data.length, be), ...data], be));
      else out.push(...block(3, [...u32(f.origLen ?? data.length, be), ...data], be));
    }
  }
  return Buffer.from(out);
}

export function gzip(b: Buffer): Buffer {
  return gzipSync(b);
}

/** A complete, gracefully closed connection (client 10.0.0.1:40000 → server 10.0.0.2:80): 10 segments. */
export function handshakeDataClose(t0 = 1700000000, client = '10.0.0.1', server = '10.0.0.2'): TcpSegmentSpec[] {
  const c = { src: client, dst: server, sport: 40000, dport: 80 };
  const s = { src: server, dst: client, sport: 80, dport: 40000 };
  void t0;
  return [
    { ...c, seq: 1000, flags: 'S', options: [2, 4, 5, 180, 4, 2, 1, 3, 3, 7] },
    { ...s, seq: 5000, ack: 1001, flags: 'SA', options: [2, 4, 5, 180, 4, 2, 1, 3, 3, 7] },
    { ...c, seq: 1001, ack: 5001, flags: 'A' },
    { ...c, seq: 1001, ack: 5001, flags: 'PA', payload: 'GET / HTTP/1.0\r\n\r\n' },
    { ...s, seq: 5001, ack: 1019, flags: 'A' },
    { ...s, seq: 5001, ack: 1019, flags: 'PA', payload: 'HTTP/1.0 200 OK\r\n\r\nhello' },
    { ...c, seq: 1019, ack: 5025, flags: 'A' },
    { ...s, seq: 5025, ack: 1019, flags: 'FA' },
    { ...c, seq: 1019, ack: 5026, flags: 'FA' },
    { ...s, seq: 5026, ack: 1020, flags: 'A' },
  ];
}
