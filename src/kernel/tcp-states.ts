/**
 * TCP states as the kernel numbers them (include/net/tcp_states.h), for sources that carry the
 * number only: sock_diag's `idiag_state` and /proc/net/tcp's `st` column.
 *
 * These numbers are part of the user-space ABI (ss, netstat and /proc/net/tcp all depend on
 * them), unlike the reason enums, which tcpsleuth never hard-codes: trace events are resolved
 * from the kernel's own format files (see event-format.ts).
 */
export const TCP_STATE_NAMES: readonly string[] = [
  'UNKNOWN', // 0: not a state
  'TCP_ESTABLISHED',
  'TCP_SYN_SENT',
  'TCP_SYN_RECV',
  'TCP_FIN_WAIT1',
  'TCP_FIN_WAIT2',
  'TCP_TIME_WAIT',
  'TCP_CLOSE',
  'TCP_CLOSE_WAIT',
  'TCP_LAST_ACK',
  'TCP_LISTEN',
  'TCP_CLOSING',
  'TCP_NEW_SYN_RECV',
  'TCP_BOUND_INACTIVE',
];

export const TCP_ESTABLISHED = 1;
export const TCP_SYN_SENT = 2;
export const TCP_CLOSE_WAIT = 8;
export const TCP_LISTEN = 10;

/** "TCP_CLOSE_WAIT" for 8; "TCP_STATE_<n>" for a number this table does not know. */
export function tcpStateName(state: number): string {
  return TCP_STATE_NAMES[state] ?? `TCP_STATE_${state}`;
}

/** Accepts "CLOSE_WAIT", "close-wait", "TCP_CLOSE_WAIT" or "8"; returns the number, or null. */
export function parseTcpState(text: string): number | null {
  if (/^\d+$/.test(text)) {
    const n = Number(text);
    return n > 0 && n < TCP_STATE_NAMES.length ? n : null;
  }
  let name = text.trim().toUpperCase().replace(/-/g, '_');
  if (!name.startsWith('TCP_')) name = `TCP_${name}`;
  if (name === 'TCP_SYN_RCVD') name = 'TCP_SYN_RECV';
  const i = TCP_STATE_NAMES.indexOf(name);
  return i > 0 ? i : null;
}

/** The short form ss and netstat print: TCP_CLOSE_WAIT → CLOSE-WAIT. */
export function shortStateName(name: string): string {
  return name.replace(/^TCP_/, '').replace(/_/g, '-');
}
