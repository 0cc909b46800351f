/**
 * The fallback socket table: /proc/net/tcp and /proc/net/tcp6, for when netlink sock_diag
 * cannot be used. It has no tcp_info (no RTT, no lost/unacked counts) and is slower on hosts
 * with many sockets, which is why it is only the fallback.
 *
 *   sl  local_address rem_address   st tx_queue:rx_queue tr:tm->when retrnsmt   uid  timeout inode ...
 *    0: 0100007F:0050 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 12345 ...
 *
 * Addresses are the kernel's in-memory bytes printed as 32-bit words in host order; `tm->when`
 * is in clock ticks (USER_HZ, 100 per second).
 */
import { readFile } from 'node:fs/promises';
import { endianness } from 'node:os';
import { ipv4Text, ipv6Text } from './inet-addr.js';
import { type SocketFamily, type TcpSocket, TIMER_NAMES } from './tcp-socket.js';
import { tcpStateName } from './tcp-states.js';

const LE = endianness() === 'LE';
const USER_HZ = 100;

function wordsToBytes(hex: string): Buffer {
  const out = Buffer.alloc(hex.length / 2);
  for (let w = 0; w < hex.length / 8; w++) {
    const v = Number.parseInt(hex.slice(w * 8, w * 8 + 8), 16);
    if (LE) out.writeUInt32LE(v, w * 4);
    else out.writeUInt32BE(v, w * 4);
  }
  return out;
}

function addrText(b: Buffer): string {
  return b.length === 4 ? ipv4Text(b, 0) : ipv6Text(b, 0);
}

/** Parses the text of /proc/net/tcp or /proc/net/tcp6. */
export function parseProcNetTcp(text: string, family: SocketFamily): TcpSocket[] {
  const out: TcpSocket[] = [];
  const lines = text.split('\n');
  for (let i = 1; i < lines.length; i++) {
    const t = lines[i]!.trim().split(/\s+/);
    if (t.length < 10) continue;
    const [lAddr, lPort] = t[1]!.split(':');
    const [rAddr, rPort] = t[2]!.split(':');
    const [txq, rxq] = t[4]!.split(':');
    const [tr, when] = t[5]!.split(':');
    const stateCode = Number.parseInt(t[3]!, 16);
    out.push({
      family,
      state: tcpStateName(stateCode),
      stateCode,
      saddr: addrText(wordsToBytes(lAddr!)),
      sport: Number.parseInt(lPort!, 16),
      daddr: addrText(wordsToBytes(rAddr!)),
      dport: Number.parseInt(rPort!, 16),
      wqueue: Number.parseInt(txq!, 16),
      rqueue: Number.parseInt(rxq!, 16),
      timer: TIMER_NAMES[Number.parseInt(tr!, 16)] ?? 'unknown',
      timerExpiresMs: Math.round((Number.parseInt(when!, 16) * 1000) / USER_HZ),
      timerRetrans: Number.parseInt(t[6]!, 16),
      uid: Number(t[7]),
      inode: Number(t[9]),
      owners: [],
    });
  }
  return out;
}

/** Reads /proc/<pid>/net/tcp{,6} (default: this process's network namespace). */
export async function readProcNetTcp(pid: number | 'self' = 'self'): Promise<TcpSocket[]> {
  const out: TcpSocket[] = [];
  for (const [file, fam] of [
    ['tcp', 'AF_INET'],
    ['tcp6', 'AF_INET6'],
  ] as const) {
    try {
      out.push(...parseProcNetTcp(await readFile(`/proc/${pid}/net/${file}`, 'utf8'), fam));
    } catch {
      // tcp6 is absent when IPv6 is disabled
    }
  }
  return out;
}
