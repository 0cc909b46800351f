/**
 * The scenarios the traffic generator knows, shared by the generator (which runs inside the
 * namespace) and the test side that starts it, so both agree on names and on the report format.
 */

export const SCENARIOS = [
  /** Request, reply, originator closes, responder closes: a complete, clean TCP connection. */
  'normal-exchange',
  /** The same over IPv6 (::1). */
  'normal-exchange-ipv6',
  /** SYN to a port nobody listens on; the kernel answers with RST. */
  'refused',
  /** The originator sends a request; the responder aborts with RST instead of answering. */
  'responder-reset',
  /** The originator aborts with RST right after the handshake. */
  'originator-reset',
  /** The originator closes (FIN); the responder acknowledges but never closes nor sends. */
  'originator-fin-only',
  /** One UDP datagram that marks the end of the traffic in a capture (see LiveCapture.waitForUdpTo). */
  'udp-fence',
] as const;

/** What the originator sends in the exchanges; its length is the expected orig_bytes. */
export const REQUEST_TEXT = 'tcpsleuth request from the originator\n';
/** What the responder answers; longer than the request so swapped directions show. */
export const REPLY_TEXT = 'tcpsleuth reply from the responder, a little longer\n';

export type Scenario = (typeof SCENARIOS)[number];

export function isScenario(name: string): name is Scenario {
  return (SCENARIOS as readonly string[]).includes(name);
}

export interface Endpoint {
  addr: string;
  port: number;
}

/**
 * The one line (JSON) the generator prints once every packet of its scenario is on the wire.
 * `client` is the originator's address and port as its own socket saw them.
 */
export interface ScenarioDone {
  done: Scenario;
  client: Endpoint;
}
