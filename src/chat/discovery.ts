/**
 * LAN discovery: a server announces itself with a small UDP broadcast; `chat join` without a
 * host listens for a bounded time and lists what it heard.
 *
 * Broadcast, not multicast: it needs no group membership nor multicast route, so it works on a
 * bare veth pair or a home LAN alike. Datagrams go to each matching interface's directed
 * broadcast address (10.0.0.255 for 10.0.0.7/24), not to 255.255.255.255, whose route is the
 * default route's interface only (and on a host without a default route, "network unreachable").
 *
 * Announcement (one UDP datagram, ≤ 512 bytes, UTF-8 JSON):
 *   {"tcpsleuth-chat":1,"name":"kitchen","port":5555,"clients":3,"maxClients":1024}
 * The server's address is the datagram's source address, never a field a sender could forge to
 * point elsewhere. Anything that does not parse, or parses to something else, is ignored.
 *
 * What listens: the server sends from an ephemeral UDP port and never reads it; the client binds
 * the discovery port only while it is discovering (a few seconds), then closes it.
 */
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { networkInterfaces } from 'node:os';
import { sanitizeText } from './protocol.js';

/** UDP port of announcements (the chat's own number; UDP and TCP ports are separate spaces). */
export const DEFAULT_DISCOVERY_PORT = 5555;
/** How often a server announces itself. */
export const DEFAULT_ANNOUNCE_INTERVAL_MS = 1000;
/** How long `chat join` without a host listens: a bit more than two announcement intervals. */
export const DEFAULT_DISCOVER_MS = 2500;
const MAX_DATAGRAM = 512;
const MAGIC = 'tcpsleuth-chat';

export interface Announcement {
  name: string;
  port: number;
  clients: number;
  maxClients: number;
}

export interface DiscoveredServer extends Announcement {
  /** Source address of the announcement: where the server is. */
  address: string;
  /** When it was last heard (ms since the epoch). */
  lastHeard: number;
}

export function encodeAnnouncement(a: Announcement): Buffer {
  const name = a.name.slice(0, 64);
  return Buffer.from(JSON.stringify({ [MAGIC]: 1, name, port: a.port, clients: a.clients, maxClients: a.maxClients }), 'utf8');
}

/** Parses one datagram; null for anything that is not a well-formed announcement. */
export function decodeAnnouncement(buf: Buffer): Announcement | null {
  if (buf.length === 0 || buf.length > MAX_DATAGRAM) return null;
  let v: unknown;
  try {
    v = JSON.parse(buf.toString('utf8'));
  } catch {
    return null;
  }
  if (typeof v !== 'object' || v === null) return null;
  const o = v as Record<string, unknown>;
  if (o[MAGIC] !== 1) return null;
  const port = o['port'];
  const name = o['name'];
  if (typeof port !== 'number' || !Number.isInteger(port) || port < 1 || port > 65535) return null;
  if (typeof name !== 'string') return null;
  const count = (x: unknown): number => (typeof x === 'number' && Number.isInteger(x) && x >= 0 ? x : 0);
  // The name is shown on a terminal: it is bytes from the wire like any other.
  return { name: sanitizeText(name).slice(0, 64), port, clients: count(o['clients']), maxClients: count(o['maxClients']) };
}

/** Directed broadcast address of an IPv4 address/netmask ("10.0.0.7", "255.255.255.0" → "10.0.0.255"). */
export function broadcastAddress(address: string, netmask: string): string {
  const a = address.split('.').map(Number);
  const m = netmask.split('.').map(Number);
  return a.map((x, i) => (x | (~m[i]! & 255)) & 255).join('.');
}

/**
 * Broadcast addresses that reach the listeners a server bound to `host` can serve: every IPv4
 * interface when bound to all interfaces, otherwise only the interface that carries `host`.
 * Loopback counts (127.255.255.255): a server on 127.0.0.1 is then discoverable on this host only.
 */
export function announceTargets(host: string | undefined): string[] {
  const all = host === undefined || host === '' || host === '0.0.0.0' || host === '::';
  const out = new Set<string>();
  for (const addrs of Object.values(networkInterfaces())) {
    for (const a of addrs ?? []) {
      if (a.family !== 'IPv4') continue;
      if (!all && a.address !== host && !(host === 'localhost' && a.internal)) continue;
      out.add(broadcastAddress(a.address, a.netmask));
    }
  }
  return [...out];
}

export interface AnnouncerOptions {
  /** Server name to announce. */
  name: string;
  /** TCP port of the chat server. */
  port: number;
  /** Address the chat server is bound to (undefined = all interfaces). */
  host?: string;
  /** UDP port to announce to. Default 5555. */
  discoveryPort?: number;
  /** Default 1 s. */
  intervalMs?: number;
  /** Current number of clients and the limit, read at each announcement. */
  load?: () => { clients: number; maxClients: number };
  log?: (line: string) => void;
}

/** Sends an announcement now and then every interval until stop(). */
export class Announcer {
  private socket: UdpSocket | null = null;
  private timer: NodeJS.Timeout | null = null;
  private warned = new Set<string>();

  constructor(private readonly opts: AnnouncerOptions) {}

  async start(): Promise<void> {
    const socket = createSocket({ type: 'udp4' });
    this.socket = socket;
    socket.on('error', (e) => this.opts.log?.(`discovery: ${e.message}`));
    // Bound to an ephemeral port (on the chat's address if it has one) only so that broadcast can
    // be switched on; nothing is ever read from it.
    const bindHost = this.opts.host !== undefined && /^\d+\.\d+\.\d+\.\d+$/.test(this.opts.host) && this.opts.host !== '0.0.0.0' ? this.opts.host : undefined;
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind({ port: 0, address: bindHost }, () => {
        socket.off('error', reject);
        resolve();
      });
    });
    socket.setBroadcast(true);
    socket.on('message', () => undefined);
    this.announce();
    this.timer = setInterval(() => this.announce(), this.opts.intervalMs ?? DEFAULT_ANNOUNCE_INTERVAL_MS);
    this.timer.unref();
  }

  /** Sends one announcement to every target now. */
  announce(): void {
    const socket = this.socket;
    if (socket === null) return;
    const load = this.opts.load?.() ?? { clients: 0, maxClients: 0 };
    const datagram = encodeAnnouncement({ name: this.opts.name, port: this.opts.port, ...load });
    const port = this.opts.discoveryPort ?? DEFAULT_DISCOVERY_PORT;
    for (const target of announceTargets(this.opts.host)) {
      socket.send(datagram, port, target, (err) => {
        // Say it once per target, not every second.
        if (err && !this.warned.has(target)) {
          this.warned.add(target);
          this.opts.log?.(`discovery: cannot announce to ${target}:${port}: ${err.message}`);
        }
      });
    }
  }

  stop(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
    this.socket?.close();
    this.socket = null;
  }
}

export interface DiscoverOptions {
  /** UDP port to listen on. Default 5555. */
  discoveryPort?: number;
  /** How long to listen. Default 2.5 s. */
  timeoutMs?: number;
  /** Stop as soon as this many distinct servers are heard. Default: listen the whole time. */
  stopAfter?: number;
}

/** Listens for announcements for a bounded time; returns each server heard once, by address and port. */
export async function discoverServers(options: DiscoverOptions = {}): Promise<DiscoveredServer[]> {
  const socket = createSocket({ type: 'udp4', reuseAddr: true });
  const found = new Map<string, DiscoveredServer>();
  try {
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind({ port: options.discoveryPort ?? DEFAULT_DISCOVERY_PORT, address: '0.0.0.0', exclusive: false }, () => {
        socket.off('error', reject);
        resolve();
      });
    });
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, options.timeoutMs ?? DEFAULT_DISCOVER_MS);
      socket.on('error', () => undefined);
      socket.on('message', (msg, rinfo) => {
        const a = decodeAnnouncement(msg);
        if (a === null) return;
        found.set(`${rinfo.address}:${a.port}`, { ...a, address: rinfo.address, lastHeard: Date.now() });
        if (options.stopAfter !== undefined && found.size >= options.stopAfter) {
          clearTimeout(timer);
          resolve();
        }
      });
    });
  } finally {
    socket.close();
  }
  return [...found.values()].sort((x, y) => x.name.localeCompare(y.name) || x.address.localeCompare(y.address));
}
