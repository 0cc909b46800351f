/**
 * The moves most scenarios share: a server that listens, a client that connects from the run's
 * client address, an accept. Each returns the socket program and the call's outcome, so the
 * scenario reads like the C experiment it reproduces.
 */
import type { Outcome } from '../outcome.js';
import type { Peer } from '../peer.js';
import type { LabContext } from '../scenario.js';

export async function startServer(lab: LabContext, opts: { backlog?: number; sockopts?: Record<string, unknown> } = {}): Promise<Peer> {
  const server = await lab.peer('server');
  const o = await server.call('listen', { sock: 'listener', addr: lab.serverAddr, port: lab.port, backlog: opts.backlog ?? 16, opts: opts.sockopts ?? {} });
  if (o.errno !== null) throw new Error(`the server could not listen: ${o.call} → ${o.errno}`);
  return server;
}

export interface Dialled {
  client: Peer;
  connect: Outcome;
  /** The client's local port (known even when connect failed). */
  port: number;
}

export async function dial(lab: LabContext, opts: { role?: string; peer?: Peer; sock?: string; sockopts?: Record<string, unknown>; bindPort?: number; timeoutMs?: number } = {}): Promise<Dialled> {
  const client = opts.peer ?? (await lab.peer(opts.role ?? 'client'));
  const args: Record<string, unknown> = { sock: opts.sock ?? 'conn', addr: lab.serverAddr, port: lab.port, bindAddr: lab.clientAddr, opts: opts.sockopts ?? {} };
  if (opts.bindPort !== undefined) args['bindPort'] = opts.bindPort;
  if (opts.timeoutMs !== undefined) args['timeoutMs'] = opts.timeoutMs;
  const connect = await client.call('connect', args);
  return { client, connect, port: connect.local?.port ?? 0 };
}

/** dial() that must succeed. */
export async function connected(lab: LabContext, opts: Parameters<typeof dial>[1] = {}): Promise<Dialled> {
  const d = await dial(lab, opts);
  if (d.connect.errno !== null) throw new Error(`connect failed: ${d.connect.errno}`);
  return d;
}

export async function accept(server: Peer, as = 'conn'): Promise<Outcome> {
  const o = await server.call('accept', { sock: 'listener', as, timeoutMs: 5000 });
  if (o.errno !== null) throw new Error(`accept failed: ${o.errno}`);
  return o;
}

/** Matches the lab's sockets by local port and, optionally, state. */
export function sock(port: number, state?: string, peerPort?: number): (s: { sport: number; dport: number; state: string }) => boolean {
  return (s) => s.sport === port && (state === undefined || s.state === state) && (peerPort === undefined || s.dport === peerPort);
}
