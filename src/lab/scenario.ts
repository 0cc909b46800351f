/**
 * A lab scenario: one classic TCP failure, reproduced on real sockets.
 *
 * A scenario is data plus one async function: its name, the story it tells, the kernel settings
 * it needs (per-namespace sysctls), what it expects the kernel and the applications to report
 * on this kernel, and `run`, which drives the socket programs through a LabContext.
 */
import type { KernelEvent } from '../kernel/trace-events.js';
import type { TcpSocket } from '../kernel/tcp-socket.js';
import type { Peer } from './peer.js';

/** Who did something, in the scenario's own terms (the capture's orig/resp come later, in truth.json). */
export type LabSide = 'client' | 'server';

export interface ExpectedReset {
  /** Which end sent the RST: the server's address:port or any other (a client). */
  from: LabSide;
  /**
   * sk_rst_reason name from tcp_send_reset; null: an RST on the wire that the TCP stack did not
   * send (a firewall). A list: any one of them, where the kernel's path depends on a race the
   * scenario cannot control (its story says which race).
   */
  reason: string | null | readonly string[];
  /** The socket's TCP state in the event, when it matters. */
  state?: string | null;
}

export interface ExpectedCall {
  role: string;
  call: string;
  /** errno name, or null for success. */
  errno: string | null;
}

export interface Expectation {
  /** RSTs that must be seen (each at least once). */
  resets: ExpectedReset[];
  /** When true, no tcp_send_reset other than the listed ones may occur. */
  onlyTheseResets?: boolean;
  /** Socket calls that must have returned these errnos (each at least once). */
  calls: ExpectedCall[];
  /** skb_drop_reason names that must appear in kfree_skb. */
  drops?: string[];
  /** errnos the kernel must have set on a socket (inet_sk_error_report). */
  socketErrors?: string[];
  /** Letters that must appear in the Zeek history of some connection of the capture (each). */
  histories?: string[];
  /** conn_state values analyze must find in the capture (one per listed connection, any order). */
  connStates?: string[];
}

export interface LabContext {
  readonly family: 4 | 6;
  /** The server's address and port, and the clients' address (all private to this run). */
  readonly serverAddr: string;
  readonly clientAddr: string;
  readonly port: number;
  /** Starts a socket program in the namespace under this role name. */
  peer(role: string): Promise<Peer>;
  /** Applies an nft ruleset inside the namespace (tables vanish with it). */
  nft(ruleset: string): Promise<void>;
  sysctl(key: string, value: string | number): Promise<void>;
  /** The namespace's TCP sockets, from /proc/<pid>/net/tcp{,6} of a socket program. */
  sockets(): Promise<TcpSocket[]>;
  /** Polls the socket table until `match` finds a socket (or, with absent, until none matches). */
  waitSocket(match: (s: TcpSocket) => boolean, what: string, opts?: { absent?: boolean; timeoutMs?: number }): Promise<TcpSocket | null>;
  /** Waits for a kernel event of this scenario. */
  waitEvent(match: (e: KernelEvent) => boolean, what: string, timeoutMs?: number): Promise<KernelEvent>;
  /** A line in the timeline's application column that is not a socket call ("firewall rule added"). */
  note(text: string): void;
  /**
   * What the lab saw of the kernel's socket table, not as a trace event ("the TIME_WAIT socket is
   * gone"): in the timeline's kernel column and in truth.json's `kernel_notes`.
   */
  observe(text: string): void;
}

export interface Scenario {
  name: string;
  title: string;
  /** One paragraph: what happens and why, in the kernel's words. */
  story: string;
  family: 4 | 6;
  sysctls?: Record<string, string | number>;
  expect: Expectation;
  run(lab: LabContext): Promise<void>;
}
