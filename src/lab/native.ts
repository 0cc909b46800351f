/**
 * The lab's native addon (native/tsl_lab.c): the socket calls Node's `net` cannot make —
 * SO_LINGER with any timeout, TCP_LINGER2, TCP_USER_TIMEOUT, keepalive idle/interval/count,
 * IP_BIND_ADDRESS_NO_PORT, raw IP packets — each returning the kernel's errno as data.
 *
 * Built from source at `npm ci` (the package's install script runs node-gyp against Node's
 * own headers) or by `npm run build:native`.
 */
import { loadAddon } from '../native-addon.js';

export interface SockName {
  addr: string;
  port: number;
}

/** Every call returns >= 0 on success and -errno on failure (getsockname: an object or -errno). */
export interface LabNative {
  socket(family: number, type: number): number;
  bind(fd: number, family: number, addr: string, port: number): number;
  connect(fd: number, family: number, addr: string, port: number): number;
  listen(fd: number, backlog: number): number;
  accept(fd: number): number;
  send(fd: number, data: Buffer): number;
  recv(fd: number, into: Buffer): number;
  shutdown(fd: number, how: number): number;
  close(fd: number): number;
  setsockoptInt(fd: number, level: number, opt: number, value: number): number;
  getsockoptInt(fd: number, level: number, opt: number): number;
  setLinger(fd: number, onoff: number, seconds: number): number;
  setTimeout(fd: number, opt: number, ms: number): number;
  setNonblock(fd: number, on: number): number;
  poll(fd: number, events: number, timeoutMs: number): number;
  getsockname(fd: number): SockName | number;
  getpeername(fd: number): SockName | number;
  sendRaw(fd: number, packet: Buffer, family: number, dst: string): number;
}

/** Linux constants (include/uapi/linux/{socket,in,tcp}.h, asm-generic/socket.h). */
export const LINUX = {
  AF_INET: 2,
  AF_INET6: 10,
  SOCK_STREAM: 1,
  SOCK_RAW: 3,
  SOL_SOCKET: 1,
  IPPROTO_IP: 0,
  IPPROTO_TCP: 6,
  SO_REUSEADDR: 2,
  SO_ERROR: 4,
  SO_SNDBUF: 7,
  SO_RCVBUF: 8,
  SO_KEEPALIVE: 9,
  SO_RCVTIMEO: 20,
  SO_SNDTIMEO: 21,
  TCP_NODELAY: 1,
  TCP_KEEPIDLE: 4,
  TCP_KEEPINTVL: 5,
  TCP_KEEPCNT: 6,
  TCP_SYNCNT: 7,
  TCP_LINGER2: 8,
  TCP_USER_TIMEOUT: 18,
  IP_BIND_ADDRESS_NO_PORT: 24,
  SHUT_RD: 0,
  SHUT_WR: 1,
  SHUT_RDWR: 2,
  POLLIN: 0x1,
  POLLOUT: 0x4,
  POLLERR: 0x8,
  POLLHUP: 0x10,
  EINPROGRESS: 115,
  EAGAIN: 11,
} as const;

export function loadNative(): LabNative {
  return loadAddon<LabNative>('tsl_lab', "the lab's native addon");
}
