/**
 * Who talks to whom: client hosts in 10.0.0.0/8 (outside 10.200/16) with Linux ephemeral ports,
 * servers in 10.200/16 on a few service ports. Each client host hands out its ports in turn, so
 * no 4-tuple is ever reused within one copy of the traffic.
 */
import type { Rng } from './prng.js';

const CLIENT_HOSTS = 4096;
const SERVER_HOSTS = 160;
/** Linux's default net.ipv4.ip_local_port_range. */
const EPHEMERAL_LOW = 32768;
const EPHEMERAL_COUNT = 60999 - EPHEMERAL_LOW + 1;
/** Encrypted services, which is what the random payload bytes look like. */
const SERVICES: readonly (readonly [number, number])[] = [
  [443, 0.6],
  [22, 0.1],
  [8443, 0.1],
  [993, 0.1],
  [5671, 0.1],
];

export interface Endpoints {
  clientIp: number;
  clientPort: number;
  serverIp: number;
  serverPort: number;
  /** TTL of the server's packets at the capture point: 64 less the hops in between. */
  serverTtl: number;
}

interface Server {
  ip: number;
  port: number;
  ttl: number;
}

export class AddressPlan {
  private readonly clients: number[];
  private readonly nextPort: number[];
  private readonly portsUsed: number[];
  private readonly servers: Server[];

  constructor(private readonly rng: Rng) {
    this.clients = distinct(CLIENT_HOSTS, () => ip(10, rng.int(0, 199), rng.int(0, 255), rng.int(1, 254)));
    this.nextPort = this.clients.map(() => rng.int(0, EPHEMERAL_COUNT - 1));
    this.portsUsed = this.clients.map(() => 0);
    this.servers = distinct(SERVER_HOSTS, () => ip(10, 200, rng.int(0, 3), rng.int(1, 254))).map((address) => ({
      ip: address,
      port: rng.weighted(SERVICES),
      ttl: 64 - rng.int(2, 12),
    }));
  }

  next(): Endpoints {
    const rng = this.rng;
    // Squaring a uniform draw makes a few hosts busy and leaves a long quiet tail, as on real networks.
    let c = Math.floor(rng.float() ** 2 * CLIENT_HOSTS);
    for (let tried = 0; this.portsUsed[c] === EPHEMERAL_COUNT; tried++) {
      if (tried === CLIENT_HOSTS) throw new Error('every client host has used all its ephemeral ports: a 4-tuple would be reused');
      c = (c + 1) % CLIENT_HOSTS;
    }
    const port = EPHEMERAL_LOW + this.nextPort[c]!;
    this.nextPort[c] = (this.nextPort[c]! + 1) % EPHEMERAL_COUNT;
    this.portsUsed[c]!++;
    const server = this.servers[Math.floor(rng.float() ** 2 * SERVER_HOSTS)]!;
    return { clientIp: this.clients[c]!, clientPort: port, serverIp: server.ip, serverPort: server.port, serverTtl: server.ttl };
  }
}

function ip(a: number, b: number, c: number, d: number): number {
  return ((a << 24) | (b << 16) | (c << 8) | d) >>> 0;
}

function distinct(count: number, draw: () => number): number[] {
  const seen = new Set<number>();
  while (seen.size < count) seen.add(draw());
  return [...seen];
}
