/**
 * How a chat connection ended, in tcpsleuth's words: the same vocabulary `tcpsleuth analyze`
 * uses for captures (FIN, RST, refused, timed out), with what each one means for the person at
 * the other end. Both the server's log and the client's status line come from this table, so a
 * user reading either learns the same thing.
 */

export type EndReason =
  | 'closed' // the peer sent FIN: an orderly close
  | 'reset' // ECONNRESET: the peer's TCP sent RST
  | 'broken-pipe' // EPIPE: we wrote after the connection was already gone
  | 'timed-out' // ETIMEDOUT or our own connect timer: the peer stopped answering
  | 'refused' // ECONNREFUSED: SYN answered with RST, nothing listens
  | 'unreachable' // EHOSTUNREACH / ENETUNREACH: no route, or ICMP unreachable came back
  | 'not-found' // ENOTFOUND / EAI_AGAIN: the host name does not resolve
  | 'quit' // the client asked to leave (/quit)
  | 'idle' // the client sent nothing for the idle timeout
  | 'slow-reader' // the client stopped reading and its output queue filled up
  | 'flood' // reserved for a policy that disconnects flooders (the server throttles instead)
  | 'shutdown' // the server is shutting down
  | 'full' // the server has its maximum number of clients
  | 'error'; // any other socket error (its code is in the detail)

/** One short phrase for notices shown to other users ("alice left (connection reset)"). */
export const END_PHRASE: Record<EndReason, string> = {
  closed: 'closed the connection',
  reset: 'connection reset',
  'broken-pipe': 'broken pipe',
  'timed-out': 'connection timed out',
  refused: 'connection refused',
  unreachable: 'host unreachable',
  'not-found': 'host name not found',
  quit: 'quit',
  idle: 'idle for too long',
  'slow-reader': 'stopped reading',
  flood: 'flooding',
  shutdown: 'server shutting down',
  full: 'server full',
  error: 'socket error',
};

/** The full explanation for a log line or the client's status line. */
export const END_MEANING: Record<EndReason, string> = {
  closed: 'closed cleanly (FIN): the other side ended the conversation in order; nothing was lost',
  reset:
    'connection reset by peer (ECONNRESET): the other side\'s TCP sent RST — its program was killed or crashed, ' +
    'closed with unread data, or aborted the connection; anything still in flight is lost',
  'broken-pipe':
    'broken pipe (EPIPE): we wrote after the connection was already closed or reset by the other side; ' +
    'what we wrote is lost (a C program without SIG_IGN for SIGPIPE would have died here)',
  'timed-out':
    'connection timed out (ETIMEDOUT): the other side did not answer — SYNs (while connecting), retransmissions or ' +
    'keepalive probes went unanswered, so the host is down, unplugged, or a firewall drops the packets ' +
    '(once connected: a half-open connection)',
  refused: 'connection refused (ECONNREFUSED): the host answered the SYN with RST — nothing listens on that port',
  unreachable: 'host unreachable (EHOSTUNREACH/ENETUNREACH): there is no route, or a router answered with ICMP unreachable',
  'not-found': 'host name not found: DNS (or /etc/hosts) has no address for it',
  quit: 'left with /quit',
  idle: 'disconnected after the idle timeout: nothing was received from it for too long',
  'slow-reader':
    'disconnected because it stopped reading: its receive window went to zero and its output queue filled up, ' +
    'so it would otherwise have held everyone back or grown memory without bound',
  flood: 'disconnected for sending too many lines too fast',
  shutdown: 'the server is shutting down; every client gets a notice and a FIN',
  full: 'refused politely: the server already has its maximum number of clients',
  error: 'ended by a socket error',
};

/** Maps a Node socket error to a reason. */
export function reasonForError(err: NodeJS.ErrnoException): EndReason {
  switch (err.code) {
    case 'ECONNRESET':
      return 'reset';
    case 'EPIPE':
      return 'broken-pipe';
    case 'ETIMEDOUT':
      return 'timed-out';
    case 'ECONNREFUSED':
      return 'refused';
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
    case 'EHOSTDOWN':
    case 'ENETDOWN':
      return 'unreachable';
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
    case 'EAI_NONAME':
      return 'not-found';
    default:
      return 'error';
  }
}

/** "reset: connection reset by peer (ECONNRESET): …" with the error code for the unexpected ones. */
export function describeEnd(reason: EndReason, err?: NodeJS.ErrnoException): string {
  const meaning = END_MEANING[reason];
  return reason === 'error' && err !== undefined ? `${meaning}: ${err.code ?? ''} ${err.message}`.trim() : meaning;
}
