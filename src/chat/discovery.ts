/**
 * LAN discovery: a server announces itself with a small UDP datagram every second; `chat join`
 * without a host listens for a bounded time and lists what it heard.
 *
 * IPv4: broadcast, not multicast: it needs no group membership nor multicast route, so it works
 * on a bare veth pair or a home LAN alike. Datagrams go to each matching interface's directed
 * broadcast address (10.0.0.255 for 10.0.0.7/24), not to 255.255.255.255, whose route is the
 * default route's interface only (and on a host without a default route, "network unreachable").
 *
 * IPv6 (no broadcast): the link-local all-nodes group ff02::1, scoped to one interface
 * (ff02::1%eth0). Every IPv6 interface is a member of it, so it needs no group join, no multicast
 * route and no IPv4 address: two hosts with nothing but link-local addresses find each other. A
 * server bound to all interfaces sends to ff02::1 on every non-loopback interface that has an IPv6
 * address (loopback cannot multicast; the IPv4 127.255.255.255 covers this host); one bound to a
 * specific IPv6 address sends from that address, on its interface only; one bound to an IPv4
 * address (or 0.0.0.0) does not announce over IPv6, since it would not accept IPv6 connections.
 * A new link-local address is unusable for ~2 s (duplicate address detection): sends fail with
 * EADDRNOTAVAIL meanwhile, which is logged once and retried every second.
 *
 * Announcement (one UDP datagram, ≤ 512 bytes, UTF-8 JSON):
 *   {"tcpsleuth-chat":1,"name":"kitchen","port":5555,"clients":3,"maxClients":1024,"id":"9f3c0a5e71d2b846"}
 * The server's address is the datagram's source address, never a field a sender could forge to
 * point elsewhere. Anything that does not parse, or parses to something else, is ignored. `id` is
 * random per server process and optional (older servers do not send it): a server heard over
 * several addresses (10.0.0.7 and fe80::1%eth0) is listed once, at its best address: IPv4, then a
 * global IPv6 address, then a link-local one. Address and port always come from the same datagram.
 *
 * What listens: the server sends from ephemeral UDP ports and never reads them; the client binds
 * the discovery port (udp4 on 0.0.0.0 and, where the host has IPv6, udp6 on ::) only while it is
 * discovering (a few seconds), then closes it.
 */
import { randomBytes } from 'node:crypto';
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { isIPv4, isIPv6 } from 'node:net';
import { networkInterfaces } from 'node:os';
import { sanitizeText } from './protocol.js';
import { endpointText } from '../report/terminal.js';

/** UDP port of announcements (the chat's own number; UDP and TCP ports are separate spaces). */
export const DEFAULT_DISCOVERY_PORT = 5555;
/** How often a server announces itself. */
export const DEFAULT_ANNOUNCE_INTERVAL_MS = 1000;
/** How long `chat join` without a host listens: a bit more than two announcement intervals. */
export const DEFAULT_DISCOVER_MS = 2500;
const MAX_DATAGRAM = 512;
const MAGIC = 'tcpsleuth-chat';
/** IPv6 link-local all-nodes group: every IPv6 interface listens to it. */
const ALL_NODES = 'ff02::1';
const ID_PATTERN = /^[0-9A-Za-z_-]{1,32}$/;

export interface Announcement {
  name: string;
  port: number;
  clients: number;
  maxClients: number;
  /** Random per server process; tells one server heard over several addresses from several servers. */
  id?: string;
}

export interface DiscoveredServer extends Announcement {
  /** Source address of the announcement: where the server is (IPv6 link-local with its %scope). */
  address: string;
  /** When it was last heard (ms since the epoch). */
  lastHeard: number;
}

/** A fresh instance id: 16 hex digits. */
export function newInstanceId(): string {
  return randomBytes(8).toString('hex');
}

export function encodeAnnouncement(a: Announcement): Buffer {
  const encode = (name: string): Buffer =>
    Buffer.from(JSON.stringify({ [MAGIC]: 1, name, port: a.port, clients: a.clients, maxClients: a.maxClients, ...(a.id === undefined ? {} : { id: a.id }) }), 'utf8');
  // 64 characters of name fit in any case but the absurd (a name of escaped control characters
  // next to 16-digit counts): shorten it rather than send what no decoder accepts.
  let name = a.name.slice(0, 64);
  let buf = encode(name);
  while (buf.length > MAX_DATAGRAM && name.length > 0) {
    name = name.slice(0, -1);
    buf = encode(name);
  }
  return buf;
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
  const id = o['id'];
  if (typeof port !== 'number' || !Number.isInteger(port) || port < 1 || port > 65535) return null;
  if (typeof name !== 'string') return null;
  // Optional (older servers do not send it), but when present it must be what a server sends.
  if (id !== undefined && (typeof id !== 'string' || !ID_PATTERN.test(id))) return null;
  const count = (x: unknown): number => (typeof x === 'number' && Number.isInteger(x) && x >= 0 ? x : 0);
  // The name is shown on a terminal: it is bytes from the wire like any other.
  const a: Announcement = { name: sanitizeText(name).slice(0, 64), port, clients: count(o['clients']), maxClients: count(o['maxClients']) };
  if (id !== undefined) a.id = id;
  return a;
}

/** Directed broadcast address of an IPv4 address/netmask ("10.0.0.7", "255.255.255.0" → "10.0.0.255"). */
export function broadcastAddress(address: string, netmask: string): string {
  const a = address.split('.').map(Number);
  const m = netmask.split('.').map(Number);
  return a.map((x, i) => (x | (~m[i]! & 255)) & 255).join('.');
}

function boundToAll(host: string | undefined): boolean {
  return host === undefined || host === '' || host === '0.0.0.0' || host === '::';
}

/** "fe80::1%eth0" → address and scope (interface name or index); no scope for others. */
function splitScope(host: string): { address: string; scope: string | undefined } {
  const i = host.indexOf('%');
  return i < 0 ? { address: host, scope: undefined } : { address: host.slice(0, i), scope: host.slice(i + 1) };
}

/** Canonical text of an IPv6 address (lower case, zeros compressed), for comparing two spellings. */
function canonicalIPv6(address: string): string {
  try {
    return new URL(`http://[${address}]/`).hostname;
  } catch {
    return address.toLowerCase();
  }
}

/** Whether `host` (an IPv6 literal, maybe with %scope) is this interface address. */
function isThisIPv6(host: string, ifname: string, a: { address: string; scopeid?: number }): boolean {
  const { address, scope } = splitScope(host);
  if (canonicalIPv6(address) !== canonicalIPv6(a.address)) return false;
  return scope === undefined || scope === ifname || scope === String(a.scopeid);
}

/**
 * Broadcast addresses that reach the listeners a server bound to `host` can serve: every IPv4
 * interface when bound to all interfaces, otherwise only the interface that carries `host`.
 * Loopback counts (127.255.255.255): a server on 127.0.0.1 is then discoverable on this host only.
 */
export function announceTargets(host: string | undefined): string[] {
  const all = boundToAll(host);
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

/** Whether a server bound to `host` accepts IPv6 connections, so that announcing over IPv6 makes sense. */
function servesIPv6(host: string | undefined): boolean {
  return host === undefined || host === '' || host === '::' || (host !== undefined && isIPv6(splitScope(host).address));
}

/**
 * IPv6 destinations (ff02::1%IFNAME) that reach the listeners a server bound to `host` can serve:
 * every non-loopback interface with an IPv6 address when bound to all interfaces (undefined or
 * "::"), the interface that carries `host` when it is an IPv6 address, none otherwise (an IPv4
 * address or 0.0.0.0: such a server accepts no IPv6 connection).
 */
export function announceTargets6(host: string | undefined): string[] {
  if (!servesIPv6(host)) return [];
  const all = host === undefined || host === '' || host === '::';
  const out = new Set<string>();
  for (const [ifname, addrs] of Object.entries(networkInterfaces())) {
    for (const a of addrs ?? []) {
      // Loopback cannot send multicast; 127.255.255.255 covers discovery on this host.
      if (a.family !== 'IPv6' || a.internal) continue;
      if (!all && !isThisIPv6(host!, ifname, a)) continue;
      out.add(`${ALL_NODES}%${ifname}`);
    }
  }
  return [...out];
}

/**
 * The address the IPv6 announcing socket binds to, so that the datagrams' source is the server's
 * address: `host` itself when it is a specific IPv6 address (a link-local one given without its
 * scope gets the scope of the interface that carries it), "::" when bound to all interfaces.
 */
function ipv6BindAddress(host: string | undefined): string {
  if (host === undefined || host === '' || host === '::') return '::';
  const { address, scope } = splitScope(host);
  if (scope !== undefined || !/^fe[89ab]/i.test(address)) return host;
  for (const [ifname, addrs] of Object.entries(networkInterfaces())) {
    if ((addrs ?? []).some((a) => a.family === 'IPv6' && isThisIPv6(host, ifname, a))) return `${address}%${ifname}`;
  }
  return host;
}

async function bindUdp(socket: UdpSocket, address: string): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.bind({ port: 0, address }, () => {
      socket.off('error', reject);
      resolve();
    });
  });
}

export interface AnnouncerOptions {
  /** Server name to announce. */
  name: string;
  /** TCP port of the chat server. */
  port: number;
  /**
   * Address the chat server is bound to (undefined = all interfaces). Give the address it actually
   * bound: without a host, Node binds "::" (IPv4 and IPv6) where the host has IPv6, else "0.0.0.0".
   */
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
  /** Random, sent in every announcement: listeners recognise this server whichever address they hear it from. */
  readonly id = newInstanceId();
  private socket4: UdpSocket | null = null;
  private socket6: UdpSocket | null = null;
  private timer: NodeJS.Timeout | null = null;
  private warned = new Set<string>();

  constructor(private readonly opts: AnnouncerOptions) {}

  async start(): Promise<void> {
    const host = this.opts.host;
    const log = (e: Error): void => this.opts.log?.(`discovery: ${e.message}`);
    const v6Literal = host !== undefined && isIPv6(splitScope(host).address) && host !== '::';
    try {
      if (!v6Literal) {
        // Bound to an ephemeral port (on the chat's address if it has one) only so that broadcast
        // can be switched on; nothing is ever read from it.
        const socket = createSocket({ type: 'udp4' });
        this.socket4 = socket;
        await bindUdp(socket, host !== undefined && isIPv4(host) && host !== '0.0.0.0' ? host : '0.0.0.0');
        socket.on('error', log);
        socket.setBroadcast(true);
        socket.on('message', () => undefined);
      }
      if (servesIPv6(host)) {
        const socket = createSocket({ type: 'udp6', ipv6Only: true });
        try {
          // Bound to the server's own address when it has one: that is the source listeners see.
          await bindUdp(socket, ipv6BindAddress(host));
          socket.on('error', log);
          socket.on('message', () => undefined);
          this.socket6 = socket;
        } catch (e) {
          socket.close();
          // A host without IPv6 still announces over IPv4; a server bound to an IPv6 address has nothing else.
          if (v6Literal) throw e;
        }
      }
    } catch (e) {
      this.stop();
      throw e;
    }
    this.announce();
    this.timer = setInterval(() => this.announce(), this.opts.intervalMs ?? DEFAULT_ANNOUNCE_INTERVAL_MS);
    this.timer.unref();
  }

  /** Sends one announcement to every target now. */
  announce(): void {
    const load = this.opts.load?.() ?? { clients: 0, maxClients: 0 };
    const datagram = encodeAnnouncement({ name: this.opts.name, port: this.opts.port, ...load, id: this.id });
    const port = this.opts.discoveryPort ?? DEFAULT_DISCOVERY_PORT;
    const send = (socket: UdpSocket, target: string): void => {
      socket.send(datagram, port, target, (err) => {
        // Say it once per target (per interface for IPv6), not every second.
        if (err && !this.warned.has(target)) {
          this.warned.add(target);
          const where = target.includes(':') ? `[${target}]:${port}` : `${target}:${port}`;
          this.opts.log?.(`discovery: cannot announce to ${where}: ${err.message}`);
        }
      });
    };
    if (this.socket4 !== null) for (const target of announceTargets(this.opts.host)) send(this.socket4, target);
    if (this.socket6 !== null) for (const target of announceTargets6(this.opts.host)) send(this.socket6, target);
  }

  stop(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
    this.socket4?.close();
    this.socket4 = null;
    this.socket6?.close();
    this.socket6 = null;
  }
}

/** How good an address is to reach a server at: 0 IPv4, 1 global (or unique local) IPv6, 2 link-local IPv6. */
export function addressRank(address: string): number {
  if (!address.includes(':')) return 0;
  return /^fe[89ab][0-9a-f]:/i.test(address) ? 2 : 1;
}


/**
 * What a listener heard: one entry per server. Announcements with the same id, name and port are
 * one server whatever address they came from, listed at its best address (addressRank); those
 * without an id (older servers) are one server per source address and port, as before ids existed.
 * The id alone is not enough: anyone on the LAN can copy a server's id, and an announcement that
 * copies it with another name or port is another entry, never a way to hide or move the real
 * one. (Copying name and port too is indistinguishable from the server's own second address —
 * announcements are not authenticated, and a LAN peer can always announce any name.)
 */
export class HeardServers {
  private readonly servers = new Map<string, DiscoveredServer>();

  /** Records an announcement whose datagram came from `address`. */
  hear(a: Announcement, address: string, now: number = Date.now()): void {
    const key = a.id !== undefined ? `id ${a.id} ${a.port} ${a.name}` : `at ${endpointText(address, a.port)}`;
    const had = this.servers.get(key);
    if (had !== undefined && address !== had.address && addressRank(address) >= addressRank(had.address)) {
      // Heard again over a worse (or as good) address: keep the one we have. Address and port
      // are never mixed from two datagrams.
      had.lastHeard = now;
      return;
    }
    this.servers.set(key, { ...a, address, lastHeard: now });
  }

  get size(): number {
    return this.servers.size;
  }

  /** By name, then address. */
  list(): DiscoveredServer[] {
    return [...this.servers.values()].sort((x, y) => x.name.localeCompare(y.name) || x.address.localeCompare(y.address));
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

async function bindListener(socket: UdpSocket, port: number, address: string): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.bind({ port, address, exclusive: false }, () => {
      socket.off('error', reject);
      resolve();
    });
  });
}

/**
 * Listens for announcements for a bounded time, over IPv4 (broadcast) and IPv6 (ff02::1) alike;
 * returns each server heard once (HeardServers). A host without IPv6 listens over IPv4 only.
 */
export async function discoverServers(options: DiscoverOptions = {}): Promise<DiscoveredServer[]> {
  const port = options.discoveryPort ?? DEFAULT_DISCOVERY_PORT;
  const heard = new HeardServers();
  const sockets: UdpSocket[] = [];
  try {
    const v4 = createSocket({ type: 'udp4', reuseAddr: true });
    sockets.push(v4);
    await bindListener(v4, port, '0.0.0.0');
    const v6 = createSocket({ type: 'udp6', reuseAddr: true, ipv6Only: true });
    sockets.push(v6);
    try {
      await bindListener(v6, port, '::');
    } catch {
      // No IPv6 here (or the port is taken for IPv6 only): IPv4 discovery still works.
      sockets.pop();
      v6.close();
    }
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, options.timeoutMs ?? DEFAULT_DISCOVER_MS);
      for (const socket of sockets) {
        socket.on('error', () => undefined);
        socket.on('message', (msg, rinfo) => {
          const a = decodeAnnouncement(msg);
          if (a === null) return;
          heard.hear(a, rinfo.address);
          if (options.stopAfter !== undefined && heard.size >= options.stopAfter) {
            clearTimeout(timer);
            resolve();
          }
        });
      }
    });
  } finally {
    for (const socket of sockets) socket.close();
  }
  return heard.list();
}
