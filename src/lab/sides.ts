/**
 * Naming the ends of a lab connection: the scenario's roles (server = the listening address and
 * port, client = anyone else) and the capture's roles (orig = who sent the first SYN, as analyze
 * decides; resp = the other end).
 */
import type { Endpoint } from './outcome.js';
import type { LabSide } from './scenario.js';

export function sameEndpoint(a: Endpoint | null, b: Endpoint | null): boolean {
  return a !== null && b !== null && a.port === b.port && canonical(a.addr) === canonical(b.addr);
}

export function canonical(addr: string): string {
  return addr.replace(/^::ffff:/, '').toLowerCase();
}

export class SideNamer {
  constructor(
    private readonly server: Endpoint,
  ) {}

  role(e: Endpoint): LabSide {
    return sameEndpoint(e, this.server) ? 'server' : 'client';
  }

  /** "server" or "client:PORT": short labels for the timeline. */
  label(e: Endpoint | null): string {
    if (e === null) return '?';
    return this.role(e) === 'server' ? 'server' : `client:${e.port}`;
  }
}
