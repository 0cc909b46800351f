/**
 * The kernel's TCP socket table over netlink: NETLINK_SOCK_DIAG, SOCK_DIAG_BY_FAMILY dumps with
 * struct inet_diag_req_v2, one dump per address family — what `ss -tan` does.
 *
 * The raw netlink socket comes from the `netlink` npm package (a maintained N-API binding that
 * ships prebuilt binaries); the messages are built and decoded here, field by field, from the
 * kernel's UAPI headers (include/uapi/linux/inet_diag.h).
 *
 *   struct inet_diag_sockid {                 struct inet_diag_req_v2 {       (56 bytes)
 *     __be16 idiag_sport;        0              __u8  sdiag_family;        0
 *     __be16 idiag_dport;        2              __u8  sdiag_protocol;      1
 *     __be32 idiag_src[4];       4              __u8  idiag_ext;           2  bit (attr-1) asks for attr
 *     __be32 idiag_dst[4];      20              __u8  pad;                 3
 *     __u32  idiag_if;          36              __u32 idiag_states;        4  bit per TCP state
 *     __u32  idiag_cookie[2];   40              struct inet_diag_sockid id; 8
 *   };                         (48 bytes)     };
 *
 *   struct inet_diag_msg {                                                (72 bytes)
 *     __u8  idiag_family;   0    __u8 idiag_state;   1
 *     __u8  idiag_timer;    2    __u8 idiag_retrans; 3
 *     struct inet_diag_sockid id;  4
 *     __u32 idiag_expires; 52    __u32 idiag_rqueue; 56    __u32 idiag_wqueue; 60
 *     __u32 idiag_uid;     64    __u32 idiag_inode;  68
 *   };  followed by attributes (struct rtattr: __u16 rta_len, __u16 rta_type; 4-byte aligned):
 *       INET_DIAG_INFO (2) = struct tcp_info, INET_DIAG_CONG (4) = "cubic\0", INET_DIAG_SHUTDOWN (8) = __u8.
 *
 * Ports and addresses are in network byte order; every other field in host order.
 */
import { endianness } from 'node:os';
import { TsleuthError } from '../errors.js';
import { ipv4Text, ipv6Text } from './inet-addr.js';
import { decodeTcpInfo } from './tcp-info.js';
import { type SocketFamily, type TcpSocket, TIMER_NAMES } from './tcp-socket.js';
import { tcpStateName } from './tcp-states.js';

const LE = endianness() === 'LE';

export const NETLINK_SOCK_DIAG = 4;
export const SOCK_DIAG_BY_FAMILY = 20;
const NLM_F_DUMP = 0x300; // NLM_F_ROOT | NLM_F_MATCH
const AF_INET = 2;
const AF_INET6 = 10;
const IPPROTO_TCP = 6;
export const INET_DIAG_INFO = 2;
export const INET_DIAG_CONG = 4;
export const INET_DIAG_SHUTDOWN = 8;
const INET_DIAG_REQ_V2_LEN = 56;
const INET_DIAG_MSG_LEN = 72;
/** Every state: bit n set for TCP state n. */
export const ALL_TCP_STATES = 0xfff;

/** Builds struct inet_diag_req_v2 for a TCP dump of one family. */
export function encodeInetDiagReqV2(family: number, states: number = ALL_TCP_STATES, ext: number = (1 << (INET_DIAG_INFO - 1)) | (1 << (INET_DIAG_CONG - 1))): Buffer {
  const req = Buffer.alloc(INET_DIAG_REQ_V2_LEN);
  req[0] = family;
  req[1] = IPPROTO_TCP;
  req[2] = ext;
  if (LE) req.writeUInt32LE(states >>> 0, 4);
  else req.writeUInt32BE(states >>> 0, 4);
  return req;
}

function addrText(buf: Buffer, offset: number, family: number): string {
  return family === AF_INET ? ipv4Text(buf, offset) : ipv6Text(buf, offset);
}

/** Decodes one inet_diag_msg with its attributes; null when it is too short. */
export function decodeInetDiagMsg(buf: Buffer): TcpSocket | null {
  if (buf.length < INET_DIAG_MSG_LEN) return null;
  const u32 = (o: number): number => (LE ? buf.readUInt32LE(o) : buf.readUInt32BE(o));
  const family = buf[0]!;
  const stateCode = buf[1]!;
  const cookieLo = u32(44);
  const cookieHi = u32(48);
  const sock: TcpSocket = {
    family: (family === AF_INET6 ? 'AF_INET6' : 'AF_INET') as SocketFamily,
    state: tcpStateName(stateCode),
    stateCode,
    sport: buf.readUInt16BE(4),
    dport: buf.readUInt16BE(6),
    saddr: addrText(buf, 8, family),
    daddr: addrText(buf, 24, family),
    ifindex: u32(40),
    cookie: ((BigInt(cookieHi) << 32n) | BigInt(cookieLo)).toString(16),
    timer: TIMER_NAMES[buf[2]!] ?? 'unknown',
    timerRetrans: buf[3]!,
    timerExpiresMs: u32(52),
    rqueue: u32(56),
    wqueue: u32(60),
    uid: u32(64),
    inode: u32(68),
    owners: [],
  };
  for (let at = INET_DIAG_MSG_LEN; at + 4 <= buf.length; ) {
    const len = LE ? buf.readUInt16LE(at) : buf.readUInt16BE(at);
    const type = (LE ? buf.readUInt16LE(at + 2) : buf.readUInt16BE(at + 2)) & 0x3fff;
    if (len < 4 || at + len > buf.length) break;
    const dataAt = at + 4;
    const dataLen = len - 4;
    if (type === INET_DIAG_INFO) {
      const info = decodeTcpInfo(buf, dataAt, dataLen);
      if (info !== null) sock.tcpInfo = info;
    } else if (type === INET_DIAG_CONG) {
      sock.congestion = buf.toString('latin1', dataAt, dataAt + dataLen).replace(/\0.*$/s, '');
    } else if (type === INET_DIAG_SHUTDOWN && dataLen >= 1) {
      sock.shutdown = buf[dataAt]!;
    }
    at += (len + 3) & ~3;
  }
  return sock;
}

interface NetlinkModule {
  createNetlink(protocol: number, options?: object): {
    request(type: number, data: Uint8Array, options?: { flags?: number; timeout?: number }): Promise<[{ type: number; data: Buffer }[], unknown]>;
    close(): void;
  };
}

let netlinkModule: Promise<NetlinkModule> | null = null;

async function loadNetlink(): Promise<NetlinkModule> {
  netlinkModule ??= import('netlink') as unknown as Promise<NetlinkModule>;
  return netlinkModule;
}

export interface DumpOptions {
  /** Bit mask of TCP states (bit n = state n); default all. */
  states?: number;
  families?: SocketFamily[];
  /** ms to wait for each dump (default 5000). */
  timeoutMs?: number;
}

/**
 * Dumps the TCP sockets of the caller's network namespace. Throws TSL_ERR_ENV when netlink
 * sock_diag cannot be used (no binding, no inet_diag module, a seccomp profile that forbids it).
 */
export async function dumpTcpSockets(options: DumpOptions = {}): Promise<TcpSocket[]> {
  let mod: NetlinkModule;
  try {
    mod = await loadNetlink();
  } catch (e) {
    throw new TsleuthError('TSL_ERR_ENV', `the netlink binding could not be loaded (${(e as Error).message.split('\n')[0]}); run "npm install" in the tcpsleuth directory`);
  }
  let sock: ReturnType<NetlinkModule['createNetlink']>;
  try {
    sock = mod.createNetlink(NETLINK_SOCK_DIAG);
  } catch (e) {
    throw new TsleuthError('TSL_ERR_ENV', `cannot open a NETLINK_SOCK_DIAG socket (${(e as Error).message}); the kernel may lack CONFIG_INET_DIAG`);
  }
  const out: TcpSocket[] = [];
  try {
    for (const fam of options.families ?? ['AF_INET', 'AF_INET6']) {
      const req = encodeInetDiagReqV2(fam === 'AF_INET' ? AF_INET : AF_INET6, options.states ?? ALL_TCP_STATES);
      let msgs: { type: number; data: Buffer }[];
      try {
        [msgs] = await sock.request(SOCK_DIAG_BY_FAMILY, req, { flags: NLM_F_DUMP, timeout: options.timeoutMs ?? 5000 });
      } catch (e) {
        const code = (e as { code?: string }).code;
        // ENOENT: no inet_diag handler for this family (tcp_diag not loaded, or IPv6 disabled).
        if (fam === 'AF_INET6' && (code === 'ENOENT' || code === 'EAFNOSUPPORT')) continue;
        throw new TsleuthError('TSL_ERR_ENV', `the sock_diag dump for ${fam} failed (${code ?? (e as Error).message}); the kernel may lack the tcp_diag module (modprobe tcp_diag)`);
      }
      for (const m of msgs) {
        if (m.type !== SOCK_DIAG_BY_FAMILY) continue;
        const s = decodeInetDiagMsg(m.data);
        if (s !== null) out.push(s);
      }
    }
  } finally {
    sock.close();
  }
  return out;
}
