/**
 * tshark's reading of a capture: the independent reference the analyzer's output is compared
 * with, and the way the test checks that the traffic on the wire is what each scenario intends.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

/** One TCP packet as tshark dissected it. */
export interface WirePacket {
  /** 1-based frame number in the file. */
  frame: number;
  /** Capture time, seconds since the epoch. */
  time: number;
  src: string;
  dst: string;
  srcPort: number;
  dstPort: number;
  /** TCP flag bits (FIN 0x01, SYN 0x02, RST 0x04, PSH 0x08, ACK 0x10, ...). */
  flags: number;
  /** TCP payload length. */
  payloadLen: number;
  /** tshark's conversation index. */
  stream: number;
}

export interface TsharkView {
  /** Every frame in the file, TCP or not. */
  frames: number;
  tcp: WirePacket[];
}

export const TCP_FIN = 0x01;
export const TCP_SYN = 0x02;
export const TCP_RST = 0x04;
export const TCP_PSH = 0x08;
export const TCP_ACK = 0x10;

const FIELDS = [
  'frame.number',
  'frame.time_epoch',
  'ip.src',
  'ipv6.src',
  'ip.dst',
  'ipv6.dst',
  'tcp.srcport',
  'tcp.dstport',
  'tcp.flags',
  'tcp.len',
  'tcp.stream',
];

/** Reads the whole file once: one tshark run per file keeps the test fast. */
export async function readWithTshark(file: string): Promise<TsharkView> {
  const { stdout } = await execFileAsync(
    'tshark',
    ['-n', '-r', file, '-T', 'fields', '-E', 'separator=\t', ...FIELDS.flatMap((f) => ['-e', f])],
    { timeout: 20_000, maxBuffer: 64 * 1024 * 1024, encoding: 'utf8' },
  );
  const rows = stdout.split('\n').filter((row) => row !== '');
  const tcp: WirePacket[] = [];
  for (const row of rows) {
    const [frame, time, ip4src, ip6src, ip4dst, ip6dst, srcPort, dstPort, flags, len, stream] = row.split('\t');
    if (srcPort === undefined || srcPort === '') continue; // not TCP
    tcp.push({
      frame: Number(frame),
      time: Number(time),
      src: ip4src || ip6src || '',
      dst: ip4dst || ip6dst || '',
      srcPort: Number(srcPort),
      dstPort: Number(dstPort),
      flags: Number(flags), // "0x0012"
      payloadLen: Number(len),
      stream: Number(stream),
    });
  }
  return { frames: rows.length, tcp };
}

/** The packets of the TCP connection(s) whose server side is `port`, in capture order. */
export function packetsOfPort(view: TsharkView, port: number): WirePacket[] {
  return view.tcp.filter((p) => p.srcPort === port || p.dstPort === port);
}

/** Flags as letters in a fixed order, e.g. "SA", "PA", "FA", "RA", "A". */
export function flagLetters(flags: number): string {
  const letters: [number, string][] = [
    [TCP_SYN, 'S'],
    [TCP_RST, 'R'],
    [TCP_FIN, 'F'],
    [TCP_PSH, 'P'],
    [TCP_ACK, 'A'],
  ];
  return letters.map(([bit, letter]) => (flags & bit ? letter : '')).join('');
}

/**
 * A connection's packets as one readable line: ">" from the client (to serverPort), "<" from
 * the server; "+N" is the payload length. E.g. ">S <SA >A >PA+38 <A <PA+52 >A >FA <FA >A".
 */
export function flagSequence(packets: readonly WirePacket[], serverPort: number): string {
  return packets
    .map((p) => `${p.dstPort === serverPort ? '>' : '<'}${flagLetters(p.flags)}${p.payloadLen > 0 ? `+${p.payloadLen}` : ''}`)
    .join(' ');
}
