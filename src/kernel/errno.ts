/**
 * errno numbers → names (ECONNRESET, EPIPE, ...) from Node's own table for this platform, so an
 * `inet_sk_error_report` event can say what the application's next read or write will fail with.
 */
import { constants } from 'node:os';

const NAMES = new Map<number, string>();
for (const [name, value] of Object.entries(constants.errno)) {
  if (!NAMES.has(value)) NAMES.set(value, name);
}

/** "ECONNREFUSED" for 111 on Linux; "E<n>" for a number Node does not know. */
export function errnoName(errno: number): string {
  if (errno === 0) return 'OK';
  return NAMES.get(Math.abs(errno)) ?? `E${Math.abs(errno)}`;
}

/** What an application sees for the common socket errors, in libc's words. */
export const ERRNO_TEXT: Readonly<Record<string, string>> = {
  ECONNREFUSED: 'Connection refused',
  ECONNRESET: 'Connection reset by peer',
  EPIPE: 'Broken pipe',
  ETIMEDOUT: 'Connection timed out',
  EHOSTUNREACH: 'No route to host',
  ENETUNREACH: 'Network is unreachable',
  ECONNABORTED: 'Software caused connection abort',
};
