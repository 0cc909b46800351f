/**
 * One TCP socket as tcpsleuth reports it, whichever source it came from (sock_diag over netlink,
 * or /proc/net/tcp{,6} when netlink is unavailable).
 */
import type { TcpInfo } from './tcp-info.js';

export type SocketFamily = 'AF_INET' | 'AF_INET6';

/** idiag_timer / the "tr" column of /proc/net/tcp. */
export type SocketTimer = 'off' | 'retransmit' | 'keepalive' | 'time_wait' | 'zero_window_probe' | 'unknown';

export const TIMER_NAMES: readonly SocketTimer[] = ['off', 'retransmit', 'keepalive', 'time_wait', 'zero_window_probe'];

export interface SocketOwner {
  pid: number;
  comm: string;
  fd: number;
}

export interface TcpSocket {
  family: SocketFamily;
  /** Kernel name of the state: TCP_ESTABLISHED, TCP_CLOSE_WAIT, TCP_LISTEN, ... */
  state: string;
  stateCode: number;
  saddr: string;
  sport: number;
  daddr: string;
  dport: number;
  /** Socket inode (0 for sockets without a file: TIME_WAIT, request sockets, orphans). */
  inode: number;
  uid: number;
  /**
   * idiag_rqueue / rx_queue as the kernel reports it: rcv_nxt - copied_seq, which counts the
   * peer's FIN (one sequence number) until the application reads the end of the stream; for a
   * listener, connections waiting in the accept queue.
   */
  rqueue: number;
  /** Data bytes the application has not read: rqueue without the FIN (absent for a listener). */
  unreadBytes?: number;
  /** Bytes in the send queue; for a listener, the accept backlog. */
  wqueue: number;
  timer: SocketTimer;
  /** Time until the timer fires, ms. */
  timerExpiresMs: number;
  /** Retransmissions (or keepalive probes) of the running timer. */
  timerRetrans: number;
  /** sock_diag cookie (hex), the same value tracepoints report as sock_cookie. */
  cookie?: string;
  ifindex?: number;
  /** INET_DIAG_INFO: struct tcp_info (netlink only). */
  tcpInfo?: TcpInfo;
  /** INET_DIAG_CONG: congestion control algorithm. */
  congestion?: string;
  /** INET_DIAG_SHUTDOWN: bit 0 = this side shut down reading, bit 1 = writing. */
  shutdown?: number;
  /** Processes holding a file descriptor for this socket (filled in from /proc/<pid>/fd). */
  owners: SocketOwner[];
}

/** States in which the peer's FIN has been received (and counted in rqueue until it is read). */
const FIN_RECEIVED = new Set(['TCP_CLOSE_WAIT', 'TCP_LAST_ACK', 'TCP_CLOSING', 'TCP_TIME_WAIT']);

/**
 * Unread data bytes of a socket: rqueue (rcv_nxt - copied_seq) less the FIN's sequence number
 * when the peer closed. Once the application has read the end of the stream copied_seq passes
 * the FIN and rqueue is 0, so "rqueue - 1, at least 0" is exact either way. Null for a listener
 * (its rqueue is the accept queue).
 */
/** True when the peer's FIN has arrived: it then counts 1 in rqueue and in tcpi_bytes_received. */
export function finReceived(state: string): boolean {
  return FIN_RECEIVED.has(state);
}

export function unreadBytesOf(s: Pick<TcpSocket, 'state' | 'rqueue'>): number | null {
  if (s.state === 'TCP_LISTEN') return null;
  return FIN_RECEIVED.has(s.state) ? Math.max(0, s.rqueue - 1) : s.rqueue;
}
