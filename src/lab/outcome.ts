/**
 * The application view: what each socket call returned, as the lab's socket programs report it
 * (one JSON line per call on their stdout). The errno is the kernel's, taken from the call
 * itself — never inferred.
 */
export interface Endpoint {
  addr: string;
  port: number;
}

export type Role = string;

export interface Outcome {
  type: 'outcome';
  /** Which program made the call ("client", "server", …, as the scenario named it). */
  role: Role;
  pid: number;
  /** The system call, by its C name: connect, accept, send, recv, shutdown, close, setsockopt, sendto… */
  call: string;
  /** The scenario's name for the socket ("conn", "listener", …). */
  sock: string;
  /** Argument worth showing (the option set, the shutdown mode, the bytes asked for). */
  arg?: string;
  /** The return value (bytes, a descriptor, 0) or -1. */
  ret: number;
  /** errno name when the call failed (ECONNRESET, EPIPE, …), null when it succeeded. */
  errno: string | null;
  /** Epoch seconds when the call started and returned. */
  start: number;
  end: number;
  /** The socket's addresses when known (after bind/connect/accept). */
  local: Endpoint | null;
  remote: Endpoint | null;
  /** For send: bytes written in total (a fill loop); for recv: bytes read. */
  bytes?: number;
}

/** A command to a socket program (one JSON line on its stdin). */
export interface AgentCommand {
  id: number;
  op: string;
  [arg: string]: unknown;
}

/** The socket program's answer to one command. */
export interface AgentReply {
  type: 'reply';
  id: number;
  /** The outcomes the command produced (a compound command such as listen makes one). */
  outcomes: Outcome[];
  /** A bug in the command (unknown socket name, bad argument), not a socket error. */
  error?: string;
}

export function endpointKey(e: Endpoint): string {
  return e.addr.includes(':') ? `[${e.addr}]:${e.port}` : `${e.addr}:${e.port}`;
}
