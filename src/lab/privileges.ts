/**
 * The lab needs root: network namespaces (CAP_SYS_ADMIN), nft and addresses (CAP_NET_ADMIN), raw
 * sockets (CAP_NET_RAW) and tracefs. Checked once, up front, so a user without them gets one
 * sentence instead of a half-done run or a cleanup that pretends to have worked.
 */
import { readFileSync } from 'node:fs';
import { TsleuthError } from '../errors.js';

const CAP_SYS_ADMIN = 21n;

/** True when this process holds CAP_SYS_ADMIN in its effective set (root normally does). */
export function hasSysAdmin(): boolean {
  try {
    const m = /^CapEff:\s*([0-9a-f]+)$/m.exec(readFileSync('/proc/self/status', 'utf8'));
    if (m !== null) return ((BigInt(`0x${m[1]}`) >> CAP_SYS_ADMIN) & 1n) === 1n;
  } catch {
    // no /proc: fall back to the user id
  }
  return typeof process.geteuid === 'function' && process.geteuid() === 0;
}

/** Throws TSL_ERR_PRIVILEGE (one sentence, exit status 2) unless the lab's privileges are there. */
export function requireLabPrivileges(command: string): void {
  if (hasSysAdmin()) return;
  throw new TsleuthError('TSL_ERR_PRIVILEGE', `${command} needs root (CAP_SYS_ADMIN for network namespaces, and tracefs): run it with sudo`);
}
