/**
 * What an application sees after its socket received an RST, by the socket's state — the
 * kernel's tcp_reset() (net/ipv4/tcp_input.c) sets sk_err:
 *
 *   TCP_SYN_SENT   → ECONNREFUSED   (connect() fails)
 *   TCP_CLOSE_WAIT → EPIPE          (the peer's FIN was already read as end of stream: recv()
 *                                    keeps returning 0; the next send() fails with EPIPE/SIGPIPE)
 *   TCP_CLOSE      → nothing        (already closed)
 *   otherwise      → ECONNRESET     (the next call reports it once — recv() or send(), whichever
 *                                    comes first; after that send() fails with EPIPE and recv()
 *                                    returns 0)
 *
 * Sockets in TIME_WAIT, LAST_ACK and CLOSING belong to no application any more (close() was
 * called), so nobody sees anything. FIN_WAIT1/2 may still be held by an application that only
 * shut down its writing side (shutdown(SHUT_WR)); if it called close(), nobody sees anything.
 */
import type { CallOutcome } from '../analyze/records.js';

/**
 * A list of calls that many findings share: frozen, list and entries, so that no consumer of one
 * finding (the library hands findings out) can change what another one says.
 */
export function sharedCalls(...calls: CallOutcome[]): readonly CallOutcome[] {
  return Object.freeze(calls.map((c) => Object.freeze(c)));
}

const IN_SYN_SENT = sharedCalls({ call: 'connect', errno: 'ECONNREFUSED' });
const IN_CLOSE_WAIT = sharedCalls(
  { call: 'send', errno: 'EPIPE', note: 'SIGPIPE unless MSG_NOSIGNAL' },
  { call: 'recv', errno: null, note: '0: end of stream' },
);
const IN_ESTABLISHED = sharedCalls(
  { call: 'recv', errno: 'ECONNRESET', note: 'or send(): the first call after the RST' },
  { call: 'send', errno: 'EPIPE', note: 'after ECONNRESET; SIGPIPE' },
);
const IN_FIN_WAIT = sharedCalls({ call: 'recv', errno: 'ECONNRESET', note: 'only if not yet close()d' });
export const NOBODY = sharedCalls();

/** The calls of the RST receiver's application, by its state (shared, frozen lists). */
export function afterResetReceived(state: string | null): readonly CallOutcome[] {
  switch (state) {
    case 'TCP_SYN_SENT':
      return IN_SYN_SENT;
    case 'TCP_CLOSE_WAIT':
      return IN_CLOSE_WAIT;
    case 'TCP_ESTABLISHED':
    case 'TCP_SYN_RECV':
      return IN_ESTABLISHED;
    case 'TCP_FIN_WAIT1':
    case 'TCP_FIN_WAIT2':
      return IN_FIN_WAIT;
    default:
      return NOBODY;
  }
}

/** A connection whose retransmissions or keepalives ran out. */
export const WRITE_TIMEOUT: CallOutcome[] = [
  { call: 'recv', errno: 'ETIMEDOUT', note: 'or send(): the first call after' },
  { call: 'send', errno: 'EPIPE', note: 'after ETIMEDOUT' },
];

/** The ICMP destination-unreachable codes as the kernel turns them into errnos (icmp_err_convert, icmpv6_err_convert). */
export function icmpErrno(ipVersion: 4 | 6, type: number, code: number): string | null {
  if (ipVersion === 4) {
    if (type === 11) return 'EHOSTUNREACH';
    if (type !== 3) return null;
    const table = ['ENETUNREACH', 'EHOSTUNREACH', 'ENOPROTOOPT', 'ECONNREFUSED', 'EMSGSIZE', 'EOPNOTSUPP', 'ENETUNREACH', 'EHOSTDOWN', 'ENONET', 'ENETUNREACH', 'EHOSTUNREACH', 'ENETUNREACH', 'EHOSTUNREACH', 'EHOSTUNREACH', 'EHOSTUNREACH', 'EHOSTUNREACH'];
    return table[code] ?? 'EHOSTUNREACH';
  }
  if (type === 3) return 'EHOSTUNREACH';
  if (type !== 1) return null;
  const table = ['ENETUNREACH', 'EACCES', 'EHOSTUNREACH', 'EHOSTUNREACH', 'ECONNREFUSED', 'EACCES', 'EACCES', 'EHOSTUNREACH'];
  return table[code] ?? 'EHOSTUNREACH';
}

/** What an ICMP error says in words. */
export function icmpText(ipVersion: 4 | 6, type: number, code: number): string {
  if (ipVersion === 4) {
    if (type === 11) return 'ICMP time exceeded (a routing loop or a too-small TTL)';
    const names = ['network unreachable', 'host unreachable', 'protocol unreachable', 'port unreachable', 'fragmentation needed', 'source route failed', 'network unknown', 'host unknown', 'host isolated', 'network administratively prohibited', 'host administratively prohibited', 'network unreachable for TOS', 'host unreachable for TOS', 'communication administratively prohibited (a firewall)', 'host precedence violation', 'precedence cutoff'];
    return `ICMP ${names[code] ?? `unreachable code ${code}`}`;
  }
  if (type === 3) return 'ICMPv6 time exceeded';
  const names = ['no route to destination', 'communication administratively prohibited (a firewall)', 'beyond scope of source address', 'address unreachable', 'port unreachable', 'source address failed ingress/egress policy', 'reject route to destination'];
  return `ICMPv6 ${names[code] ?? `unreachable code ${code}`}`;
}
