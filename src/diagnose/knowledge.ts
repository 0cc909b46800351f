/**
 * The knowledge behind the findings, for `tcpsleuth explain <topic>` and for the report: each
 * errno, each kernel reset reason, each finding kind — its causes, how to tell them apart, what
 * to check — and the words applications really print for each errno (libc's strerror, Node,
 * Java, Go, Python), so a line from a log finds its explanation.
 */

export interface Topic {
  name: string;
  type: 'errno' | 'reason' | 'finding';
  title: string;
  /** What it means and what causes it. */
  causes: string[];
  /** How to tell the causes apart. */
  tell: string[];
  /** What to check or change. */
  check: string[];
  /** errnos: how it appears in logs. */
  messages?: Array<[string, string]>;
}

function errno(name: string, title: string, libc: string, node: string, java: string, go: string, python: string, causes: string[], tell: string[], check: string[]): Topic {
  return {
    name,
    type: 'errno',
    title,
    causes,
    tell,
    check,
    messages: [
      ['libc (strerror, perror)', libc],
      ['Node.js', node],
      ['Java', java],
      ['Go', go],
      ['Python', python],
    ],
  };
}

const TOPICS: Topic[] = [
  errno(
    'ECONNRESET',
    'Connection reset by peer: an RST arrived for an open connection',
    'Connection reset by peer',
    'Error: read ECONNRESET (code ECONNRESET; "socket hang up" when it happens before a response)',
    'java.net.SocketException: Connection reset (reading) / Connection reset by peer (writing)',
    'read tcp A->B: read: connection reset by peer',
    'ConnectionResetError: [Errno 104] Connection reset by peer',
    [
      'The peer\'s kernel sent an RST and this socket was open (ESTABLISHED, or FIN_WAIT with the application still holding it). The first call after the RST — recv() or send() — reports it once.',
      'The peer closed with unread data (TCP_ABORT_ON_CLOSE), closed abortively with SO_LINGER {1,0} (TCP_STATE), its socket was gone (NO_SOCKET / TCP_FLAGS), or its keepalive gave up (TCP_KEEPALIVE_TIMEOUT). (When the peer had closed first and our write drew its RST — TCP_ABORT_ON_DATA, TCP_TIMEWAIT_SOCKET — our socket was in CLOSE_WAIT and the next send() gets EPIPE instead; see EPIPE.)',
      'A firewall, load balancer or NAT forged the RST (idle timeouts, IPS rules).',
    ],
    [
      'tcpsleuth analyze on a capture names the RST\'s sender, its state and the likely reason; a TTL unlike the sender\'s other packets, or the "sender" still talking afterwards, means a middlebox.',
      'On the peer\'s host, tcpsleuth trace shows tcp_send_reset with the kernel\'s own reason.',
    ],
    ['Fix the peer per the reason (read before closing, no SO_LINGER 0, idle timeouts shorter on the client than on the server).', 'Retry idempotent requests on a fresh connection; validate pooled connections before use.'],
  ),
  errno(
    'EPIPE',
    'Broken pipe: writing to a connection that can no longer send',
    'Broken pipe',
    'Error: write EPIPE (code EPIPE)',
    'java.net.SocketException: Broken pipe (Write failed)',
    'write tcp A->B: write: broken pipe',
    'BrokenPipeError: [Errno 32] Broken pipe',
    [
      'The signal SIGPIPE comes with it and kills a program that does not ignore it (MSG_NOSIGNAL, SIG_IGN).',
      'send() after the connection was reset and ECONNRESET had already been reported (or was never pending: the socket was in CLOSE_WAIT — the peer had closed, then its RST answered our write).',
      'send() after this side called shutdown(SHUT_WR).',
      'The classic sequence: the peer closes; our first write succeeds (the data leaves); the peer answers it with RST; our next write fails with EPIPE.',
    ],
    ['EPIPE right after the peer\'s FIN: we wrote to a peer that had closed (check who closed first in the capture). EPIPE after ECONNRESET: the same reset, reported twice.'],
    ['Read the peer\'s end of stream before writing again; handle SIGPIPE (MSG_NOSIGNAL, SIG_IGN) and treat EPIPE as a closed connection: reconnect.'],
  ),
  errno(
    'ECONNREFUSED',
    'Connection refused: the SYN was answered with RST (or ICMP port unreachable)',
    'Connection refused',
    'Error: connect ECONNREFUSED 10.0.0.5:8080',
    'java.net.ConnectException: Connection refused',
    'dial tcp 10.0.0.5:8080: connect: connection refused',
    'ConnectionRefusedError: [Errno 111] Connection refused',
    [
      'Nothing listens on that address and port (the kernel answers with RST, reason NO_SOCKET): the service is down, restarting, bound to another address (127.0.0.1 vs 0.0.0.0) or port.',
      'A firewall rejects the port (reject with tcp reset, or ICMP port unreachable — iptables\' default REJECT).',
      'An RST arriving while connecting (SYN-SENT) for another reason also gives ECONNREFUSED.',
    ],
    ['RST from the server\'s address: its kernel or a firewall on it. ICMP port unreachable: a firewall (TCP stacks answer with RST). ss -ltn on the server shows what listens.'],
    ['Start the service / fix the address and port; open the firewall; retry with backoff during restarts.'],
  ),
  errno(
    'ETIMEDOUT',
    'Connection timed out: the kernel gave up retransmitting',
    'Connection timed out',
    'Error: connect ETIMEDOUT 10.0.0.5:8080 (or read ETIMEDOUT)',
    'java.net.ConnectException: Connection timed out (connect); java.net.SocketException: Connection timed out (read)',
    'dial tcp 10.0.0.5:8080: connect: connection timed out; read: connection timed out',
    'TimeoutError: [Errno 110] Connection timed out',
    [
      'connect(): SYNs unanswered for tcp_syn_retries (6: ~127 s; ~131 s on Linux ≥ 6.5, whose net.ipv4.tcp_syn_linear_timeouts = 4 adds four retries 1 s apart) — dropped by a firewall, host down, no route, or by a listener whose accept queue is full.',
      'An established connection: data retransmitted for tcp_retries2 (15: ~15 min) or TCP_USER_TIMEOUT without an ACK; or keepalive probes unanswered (the kernel then also sends an RST, reason TCP_KEEPALIVE_TIMEOUT).',
      'Not the application\'s own timeouts (those are the library\'s messages, e.g. Java SocketTimeoutException "Read timed out").',
    ],
    ['In a capture: SYNs at 1, 3, 7, 15 … s with no answer (connect; on Linux ≥ 6.5 with tcp_syn_linear_timeouts = 4: at 1, 2, 3, 4, 5, 7, 11, 19 … s, 11 SYNs); the same data segment repeated at doubling intervals (data); keepalive probes (seq = snd.nxt − 1) unanswered (keepalive).'],
    ['Check reachability and firewalls (drop vs reject); set TCP_USER_TIMEOUT / keepalive to notice dead peers sooner.'],
  ),
  errno(
    'EHOSTUNREACH',
    'No route to host: an ICMP host-unreachable (or a neighbour that does not answer ARP/ND)',
    'No route to host',
    'Error: connect EHOSTUNREACH 10.0.0.5:8080',
    'java.net.NoRouteToHostException: No route to host',
    'dial tcp 10.0.0.5:8080: connect: no route to host',
    'OSError: [Errno 113] No route to host',
    ['A router (or the local host) reported the host unreachable; a firewall answering with ICMP admin-prohibited (IPv4) also maps here.', 'On a LAN: nobody answers ARP/neighbour discovery for the address.'],
    ['The ICMP error\'s source address names the router; no ICMP in the capture and a local failure means ARP/ND.'],
    ['ip route get ADDR; ip neigh; the router that sent the ICMP; firewall rules.'],
  ),
  errno(
    'ENETUNREACH',
    'Network is unreachable: no route, or ICMP network unreachable',
    'Network is unreachable',
    'Error: connect ENETUNREACH',
    'java.net.SocketException: Network is unreachable',
    'connect: network is unreachable',
    'OSError: [Errno 101] Network is unreachable',
    ['No route to the destination network on this host (or IPv6 without a default route), or a router said so with ICMP.'],
    ['Fails instantly without a packet: a local routing problem. With an ICMP error: a router\'s.'],
    ['ip route get ADDR (ip -6 route for IPv6).'],
  ),
  errno(
    'EAGAIN',
    'Resource temporarily unavailable: a non-blocking call would have to wait',
    'Resource temporarily unavailable',
    '(handled inside Node: writes are buffered and "drain" is emitted later)',
    '(NIO: write() returns 0)',
    '(handled by the Go runtime\'s poller)',
    'BlockingIOError: [Errno 11] Resource temporarily unavailable',
    ['send() on a non-blocking socket whose send buffer is full — e.g. the peer advertises a zero window because its application does not read.'],
    ['A zero window from the peer in the capture means a slow reader on the other side; a full buffer without it means a slow network.'],
    ['Find why the reader stopped reading; wait for writability (poll/epoll) instead of spinning.'],
  ),
  errno(
    'EACCES',
    'Permission denied: for TCP connects over IPv6, an ICMPv6 administratively-prohibited error',
    'Permission denied',
    'Error: connect EACCES',
    'java.net.SocketException: Permission denied',
    'connect: permission denied',
    'PermissionError: [Errno 13] Permission denied',
    ['An ICMPv6 "administratively prohibited" or "reject route" answered the SYN (a firewall); locally, an LSM or bind() to a privileged port.'],
    ['With an ICMPv6 error in the capture: a firewall on the path.'],
    ['The firewall rules for that destination.'],
  ),
  errno(
    'EADDRNOTAVAIL',
    'Cannot assign requested address: no local address and port left for this connect() (or bind() to an address this host does not have)',
    'Cannot assign requested address',
    'Error: connect EADDRNOTAVAIL 10.0.0.5:8080 - Local (0.0.0.0:0)',
    'java.net.BindException: Cannot assign requested address',
    'dial tcp 10.0.0.5:8080: connect: cannot assign requested address',
    'OSError: [Errno 99] Cannot assign requested address',
    [
      'Every local port of net.ipv4.ip_local_port_range is in use towards that destination address and port: many short connections in TIME_WAIT, or connections that never closed (CLOSE_WAIT leaks) holding their ports.',
      'A connect() with a fixed source port (or IP_BIND_ADDRESS_NO_PORT and bind()) whose 4-tuple is still in use.',
      'bind() to an address no interface has (a typo, a removed IP, an IPv6 address still in DAD).',
    ],
    ['Fails at once, without a SYN on the wire. ss -tan state time-wait / close-wait counts towards that destination tell which sockets hold the ports.'],
    ['Reuse connections (keep-alive, pools); net.ipv4.tcp_tw_reuse; a wider ip_local_port_range; tcpsleuth leaks for sockets that are never closed.'],
  ),
  // Kernel reset reasons (enum sk_rst_reason, include/net/rstreason.h).
  reason('NO_SOCKET', 'No socket for the segment: the kernel answered with RST from tcp_v4_rcv/tcp_v6_rcv', [
    'A SYN to a port nobody listens on (connection refused).',
    'Any other segment for a connection this host does not have: after its own RST or close, after a reboot or process restart, after a failover, or a segment that a load balancer sent to the wrong backend.',
  ], [
    'To a SYN: refused. To data: the RST\'s sender had no connection — look for its earlier RST/FIN, or a gap in its traffic (reboot).',
    'If the port still has a listener the kernel names it TCP_FLAGS instead (the listener rejects a non-SYN segment).',
  ], ['ss -ltn on the sender (what listens); its restarts; load-balancer affinity.']),
  reason('TCP_FLAGS', 'A segment with the wrong flags for the socket that got it — typically an ACK or data reaching a listener with no such connection', [
    'The connection is gone but the port still listens: the server closed or reset it, or restarted, and the client\'s segments keep coming.',
  ], ['Same wire shape as NO_SOCKET; the difference is only whether a listener owns the port.'], ['Why the server dropped the connection (its earlier RST or FIN, a restart).']),
  reason('TCP_ABORT_ON_CLOSE', 'close() with unread data in the receive queue: RST instead of FIN (tcp_close)', [
    'The application closed a socket without reading everything the peer sent: a server that rejects a request after reading only its headers, an HTTP client that drops a response body, a process that exits.',
    'Checked before SO_LINGER: a close() with unread data gives this reason even with linger 0.',
  ], [
    'On the wire: data from the peer reached the RST\'s sender and was never answered (no reply data, no FIN) before the RST. If the sender had answered all the data, an abortive close (TCP_STATE) looks the same: tcpsleuth then says UNKNOWN.',
  ], ['Read requests fully (or until end of stream) before closing; to refuse early: respond, shutdown(SHUT_WR), drain, then close.']),
  reason('TCP_STATE', 'An abortive close: tcp_disconnect on a synchronized connection (SO_LINGER {1,0} close), or a closing socket the kernel gave up on', [
    'close() with SO_LINGER {on, 0} and nothing unread (Java setSoLinger(true,0), Node resetAndDestroy(), Go SetLinger(0), nginx lingering_close off / reset_timedout_connection).',
    'An orphaned FIN_WAIT2 socket whose timer ran out.',
  ], ['On the wire: an RST at the sender\'s next sequence number, answering nothing, with no unread data from the peer.'], ['Prefer a normal close(); TIME_WAIT is harmless and an RST loses data in flight.']),
  reason('TCP_ABORT_ON_DATA', 'Data arrived for a socket that had shut its receiving side: it had sent its FIN and reads nothing more (tcp_rcv_state_process, RFC 1122 §4.2.2.13)', [
    'The peer kept writing after this side closed: a pipelined request after "Connection: close", a client reusing a connection the server had closed.',
    'After close(): the socket is still a full one — in FIN_WAIT1 (its FIN not yet acknowledged), or in FIN_WAIT2 when the FIN\'s ACK met the socket still locked by close() or tcp_fin_timeout is above 60 s.',
    'After shutdown(SHUT_RDWR) with the application still holding the socket: it gets ECONNRESET on its next call.',
  ], ['The RST answers the peer\'s new data, after the sender\'s FIN. Before that FIN was acknowledged it is always this reason; after it, this reason (a socket still held, or a full orphan) and TCP_TIMEWAIT_SOCKET (the FIN_WAIT2 mini-socket close() usually leaves) look the same on the wire.'], ['The writer must read the end of stream before writing; handle EPIPE by reconnecting.']),
  reason('TCP_TIMEWAIT_SOCKET', 'A time-wait mini-socket answered with RST (tcp_timewait_state_process)', [
    'Data reached a closed connection whose FIN had already been acknowledged: with the default tcp_fin_timeout the orphaned socket became a FIN_WAIT2 mini-socket, which resets on new data.',
    'A SYN to a FIN_WAIT2 mini-socket.',
  ], ['The RST answers data that came after the sender\'s FIN and after the peer had acknowledged that FIN.'], ['As TCP_ABORT_ON_DATA: the peer wrote after this side closed.']),
  reason('TCP_KEEPALIVE_TIMEOUT', 'Keepalive gave up: tcp_keepalive_probes unanswered (tcp_keepalive_timer)', [
    'The peer is dead or unreachable (crash, power, cable), or a NAT/firewall dropped the connection\'s state and silently discards it.',
  ], ['Keepalive probes (seq = snd.nxt − 1, 0 or 1 byte) unanswered, then an RST from the prober; its application gets ETIMEDOUT.'], ['Find the middlebox idle timeout; set keepalive time below it.']),
  reason('TCP_INVALID_ACK_SEQUENCE', 'SYN-SENT got an ACK that does not acknowledge its SYN (tcp_rcv_synsent_state_process)', [
    'Port reuse: the server still has an earlier connection on the same 4-tuple (usually in CLOSE_WAIT: a leak) and answers the new SYN with an ACK for the old one; the client resets it and retransmits its SYN (about 1 s later on old kernels, within milliseconds on current ones).',
    'A stale SYN-ACK, or a middlebox rewriting sequence numbers.',
  ], ['A pure ACK answering a SYN: port reuse. A SYN-ACK with a wrong ack: stale or rewritten.'], ['On the server: sockets in CLOSE_WAIT (tcpsleuth leaks); the client\'s ip_local_port_range.']),
  reason('INVALID_SYN', 'A segment that cannot complete a pending handshake was answered with RST (tcp_check_req → embryonic_reset)', [
    'The listener\'s accept queue was full and net.ipv4.tcp_abort_on_overflow = 1: the client\'s ACK that completes the handshake is answered with RST instead of being dropped; the client\'s connect() had succeeded, its first read or write fails with ECONNRESET.',
    'A second SYN with another initial sequence number while the first handshake is pending.',
  ], ['An RST answering the client\'s handshake ACK (or its first data) right after the SYN-ACK: the accept queue with tcp_abort_on_overflow. Two SYNs with different ISNs on one 4-tuple within a handshake: the second case.'], ['nstat -az TcpExtListenOverflows TcpExtListenDrops and ss -ltn (Recv-Q above Send-Q) on the server: accept() faster, a bigger backlog; tcp_abort_on_overflow = 0 (the default) drops instead of resetting. For the second case: NAT mappings reused too early, clients with fixed source ports.']),
  reason('TCP_ABORT_ON_LINGER', 'close() in FIN_WAIT2 with a negative TCP_LINGER2: RST instead of waiting', ['An application set TCP_LINGER2 < 0.'], ['An RST right after the peer acknowledged the FIN.'], ['Remove the option.']),
  reason('TCP_ABORT_ON_MEMORY', 'Too many orphaned sockets or too much memory: the kernel aborts closing sockets (tcp_out_of_resources)', ['tcp_max_orphans exceeded or TCP memory pressure.'], ['"too many orphaned sockets" / "out of memory -- consider tuning tcp_mem" in dmesg.'], ['nstat TcpExtTCPAbortOnMemory; tune tcp_mem, fix the closing pattern.']),
  reason('UNKNOWN', 'tcpsleuth could not decide the reason from the wire; the finding lists the candidates', [
    'Two kernel paths that look the same on the wire (e.g. TCP_ABORT_ON_CLOSE vs TCP_STATE when the sender had answered the data), or an RST that fits no Linux shape.',
  ], ['Look at the candidates and the evidence frames.'], ['Run tcpsleuth trace on the RST sender\'s host: tcp_send_reset names the reason for certain.']),
  reason('NONE', 'No RST is involved in this finding (timeouts, stalls, windows)', ['The finding is about silence, not a reset.'], [], []),
  // Finding kinds.
  finding('refused', 'The SYN was answered with RST: nothing listens on that port', ['See NO_SOCKET and ECONNREFUSED.'], ['ICMP instead of RST is the "unreachable" finding.'], ['ss -ltn on the server, the address it binds, firewalls.']),
  finding('reset', 'An RST ended the connection; the finding names the sender, its state, the kernel reason and what each application saw', ['See the reason named in the finding (explain TCP_ABORT_ON_CLOSE, …).'], ['Who sent it (by), in which state (state), and the frames.'], ['Per reason.']),
  finding('middlebox-reset', 'An RST the claimed sender\'s stack did not send: a firewall, load balancer, NAT or IPS forged it', ['Idle timeouts of stateful middleboxes; IPS/DPI; reject rules.'], ['The RST\'s TTL differs from the sender\'s other packets, or the "sender" keeps talking after its RST. Same-host firewalls (nft reject) keep the TTL and cannot be told apart from the stack.'], ['Capture on both sides of the suspected box; its idle timeout; keepalive below it.']),
  finding('port-reuse', 'A new SYN met an old connection on the same 4-tuple: challenge ACK, RST (TCP_INVALID_ACK_SEQUENCE), SYN retransmitted', ['A server that never closes connections its clients closed (CLOSE_WAIT leak), plus clients that reuse ports.'], ['Pure ACK answering a SYN, then the client\'s RST with that ACK\'s number, then the SYN again (after ~1 s on old kernels, ~10 ms on Linux 6.x).'], ['tcpsleuth leaks / ss -tan state close-wait on the server.']),
  finding('connect-timeout', 'SYNs retransmitted, never answered: connect() ends in ETIMEDOUT', [
    'A firewall that drops, a host that is down, no route.',
    'A listener whose accept queue is full: the kernel drops new SYNs without an answer (tcp_conn_request; nstat TcpExtListenOverflows, TcpExtListenDrops — the SYN is consumed, no skb drop reason is traced for it). tcpsleuth names it first when the same address and port answered other SYNs in the capture before the attempt ended; a firewall rate limit is the other reading.',
  ], [
    'No SYN-ACK, RST or ICMP at all; with ICMP it is "unreachable".',
    'The schedule: SYNs 1 s apart and then at doubling intervals (1, 3, 7, 15, 31, 63 s after the first; ETIMEDOUT ~127 s), or, on Linux ≥ 6.5 with net.ipv4.tcp_syn_linear_timeouts = 4, five retries 1 s apart before the doubling (1, 2, 3, 4, 5, 7, 11, 19, 35, 67 s; 11 SYNs, ETIMEDOUT ~131 s). Evenly spaced SYNs alone are not counted as a kernel\'s backoff.',
  ], ['Reachability, firewalls, security groups; a capture on the server side; for a known listener nstat -az TcpExtListenOverflows TcpExtListenDrops and ss -ltn (Recv-Q above Send-Q) on the server.']),
  finding('slow-connect', 'The first SYNs got no answer, a later one did: connect() succeeded, 1, 3, 7 … s late (1, 2, 3, 4, 5, 7 … s on Linux ≥ 6.5)', [
    'The listener\'s accept queue was full: its kernel drops new SYNs without a trace on the wire (ListenOverflows, ListenDrops).',
    'Loss on the path, a firewall or a rate limit dropping SYNs, or the SYN-ACKs on their way back (a capture near the client cannot tell which).',
  ], ['SYNs with the same initial sequence number at 1 s, then doubling, intervals (on Linux ≥ 6.5, net.ipv4.tcp_syn_linear_timeouts = 4: five intervals of 1 s first), then the SYN-ACK and the client\'s ACK; all SYNs before it (SYNs after the SYN-ACK: see handshake-incomplete).'], ['nstat -az TcpExtListenOverflows TcpExtListenDrops on the server, ss -ltn (Recv-Q against Send-Q); a capture on the server.']),
  finding('handshake-incomplete', 'SYN-ACK sent, never acknowledged', ['SYN-ACKs lost on the way back (client keeps sending SYNs), a vanished client, or spoofed SYNs (SYN flood).'], ['Client retransmitting SYNs after the SYN-ACK: the return path. Silence: the client is gone.'], ['The return path; syncookies against floods.']),
  finding('accept-overflow', 'The listener\'s accept queue was full: the client\'s handshake-completing segments were dropped', ['The application does not accept() fast enough; listen() backlog too small.'], ['The server resends its SYN-ACK after the client\'s ACK (that ACK was dropped), or the client\'s first data is retransmitted unanswered until the queue has room (history ShDTa); with net.ipv4.tcp_abort_on_overflow = 1 an RST instead (INVALID_SYN).'], ['nstat TcpExtListenOverflows, ss -ltn Recv-Q vs Send-Q, somaxconn.']),
  finding('unreachable', 'An ICMP error answered the connection attempt', ['Routers (host/network unreachable) or firewalls (port unreachable, admin prohibited).'], ['The ICMP type and code map to the errno (ECONNREFUSED, EHOSTUNREACH, ENETUNREACH, EACCES).'], ['Routes and firewall rules.']),
  finding('retransmission-timeout', 'The same data retransmitted at growing intervals without an ACK: ETIMEDOUT when the kernel gives up', ['The peer vanished, or a middlebox dropped the connection\'s state.'], ['No RST from the peer; silence afterwards.'], ['TCP_USER_TIMEOUT; the path.']),
  finding('mtu-black-hole', 'The first segment of a new, larger size never got through, while smaller ones did: a path MTU black hole', [
    'A link on the path (a tunnel, VPN, PPPoE, an overlay network) has a smaller MTU, and the ICMP "fragmentation needed" / ICMPv6 "packet too big" that would tell the sender is filtered.',
  ], ['The retransmitted segment is the first of its size, with DF, and the peer acknowledged everything before it; no ICMP came back. Loss elsewhere hits segments of every size.'], ['tracepath or ping -M do -s SIZE to the peer; firewall rules for ICMP type 3 code 4 and ICMPv6 type 2; MSS clamping on the router; net.ipv4.tcp_mtu_probing.']),
  finding('keepalive-timeout', 'Keepalive probes unanswered (and then the RST with TCP_KEEPALIVE_TIMEOUT)', ['Dead peer, or expired NAT/firewall state.'], ['Probes with seq = snd.nxt − 1.'], ['Middlebox idle timeouts vs keepalive time.']),
  finding('half-close-stall', 'One side closed (FIN, acknowledged); the other never closed and went silent: CLOSE_WAIT, the application never called close()', ['A missing close() on end of stream or on an error path: a file-descriptor leak.'], ['FIN acknowledged, then nothing from that side: no FIN, no RST.'], ['ss -tan state close-wait / tcpsleuth leaks on that host; close on EOF, errors, timeouts.']),
  finding('zero-window', 'A receiver advertised a zero window long enough to stall its peer: its application stopped reading (slow reader, not slow network)', ['The reading application is blocked or overloaded.'], [
    'Zero windows and zero-window probes; retransmissions instead would mean the network.',
    'A zero window reopened within 200 ms in all (TCP_RTO_MIN, the earliest a Linux sender probes a shut window) with no probe is ordinary flow control on a fast link — the reader woke up an instant later: no finding (the statistics still count it). 200 ms or more, or probes: a stall (0.9); many short ones adding up to 200 ms: the reader set the pace (0.7).',
  ], ['What the reader is waiting for.']),
  finding('window-full', 'A sender filled the receiver\'s advertised window to its right edge: the receive window, not the network, held it back', [
    'Followed by zero windows from the same receiver: its application does not read fast enough (a slow reader).',
    'Full but never shut: the receive window is smaller than the path\'s bandwidth-delay product — an SO_RCVBUF set by the application (it turns off autotuning), a low net.ipv4.tcp_rmem maximum, or window scaling not negotiated (net.ipv4.tcp_window_scaling = 0, or a middlebox that strips the option from the SYN) capping the window at 64 KB.',
  ], [
    'Window full and then zero window: slow reader. Window full, never zero: small window (without the window-scale option in both SYNs, at most 64 KB). Retransmissions and no full window: a slow or lossy network (see retransmissions).',
    'Only segments whose window scale is known count: both SYNs must be in the capture.',
  ], ['The reader (what blocks it) for a slow reader; SO_RCVBUF in the application, sysctl net.ipv4.tcp_rmem and net.ipv4.tcp_window_scaling on the receiver, the SYN\'s options on both sides of middleboxes for a small window.']),
  finding('unanswered-request', 'The client sent a request, the server\'s kernel acknowledged it, and the server sent nothing back: its application did not answer', [
    'The server\'s application is busy, blocked or deadlocked, or never accept()ed the connection: the kernel completes the handshake and queues data for a listener whose application does not accept.',
    'It read the request and closed without answering (an error path, a crashed handler, a request it drops): curl\'s "Empty reply from server".',
    'A protocol in which only the client talks (a log shipper) looks the same: an observation, not a failure.',
  ], ['Data from the client, all of it acknowledged, no byte from the server; then the server\'s FIN, the client giving up (FIN or RST) after at least 1 s, or at least 1 s of silence until the capture ended.'], ['ss -ltn (Recv-Q: the accept queue) and ss -tn (Recv-Q: unread requests) on the server, a thread or stack dump of its application, its logs; a client timeout that fits the server\'s latency.']),
  finding('challenge-ack', 'An RST not exactly at rcv_nxt, or a SYN on a live connection, was answered with a challenge ACK (RFC 5961) and ignored', ['A stale RST crossing data in flight; a blind reset or SYN injection attempt; a client that lost its connection\'s state and reconnects from the same port.'], ['The ACK right after the RST or SYN, the connection continuing.'], ['Usually harmless; repeated ones from elsewhere are an attack (nstat TcpExtTCPChallengeACK).']),
  finding('time-wait-assassination', 'An RST reached a TIME_WAIT socket (RFC 1337): it kills it early unless net.ipv4.tcp_rfc1337 = 1, which ignores it', ['A late segment answered by a peer whose socket is gone.'], ['RST after both FINs, to the side that closed first. Whether the socket died cannot be seen on the wire (ss -tan state time-wait on that host can).'], ['net.ipv4.tcp_rfc1337 = 1.']),
  finding('retransmissions', 'Network loss per direction: retransmitted segments', ['Congestion, faulty links, shaping.'], ['Retransmissions are network loss; bytes acknowledged but never captured are capture loss (see capture-loss).'], ['ip -s link, ethtool -S, the path.']),
  finding('capture-loss', 'Bytes acknowledged by the receiver that the capture never showed: the capture dropped them, not the network', ['tcpdump falling behind ("dropped by kernel"), a busy mirror port, a filter that missed some segments.'], [
    'missed_bytes > 0 without retransmissions.',
    'A snaplen (tcpdump -s 96/128, a header-only capture) also leaves payload uncaptured, and missed_bytes counts it as Zeek does; when every missed byte lay in a segment whose header was captured, it is the snaplen and no capture-loss is reported (the summary counts the frames the snaplen cut).',
  ], ['tcpdump -B, a filter, capture closer to a host.']),
];

function reason(name: string, title: string, causes: string[], tell: string[], check: string[]): Topic {
  return { name, type: 'reason', title, causes, tell, check };
}

function finding(name: string, title: string, causes: string[], tell: string[], check: string[]): Topic {
  return { name, type: 'finding', title, causes, tell, check };
}

/** Every finding kind the rules produce. */
export const FINDING_KINDS: readonly string[] = TOPICS.filter((t) => t.type === 'finding').map((t) => t.name);

/** Kinds that mean the connection failed or is stuck (the rest are observations). */
export const FAILURE_KINDS: ReadonlySet<string> = new Set([
  'refused',
  'unreachable',
  'reset',
  'middlebox-reset',
  'port-reuse',
  'connect-timeout',
  'handshake-incomplete',
  'accept-overflow',
  'retransmission-timeout',
  'mtu-black-hole',
  'keepalive-timeout',
  'half-close-stall',
  'zero-window',
]);

export function topicNames(): { errno: string[]; reason: string[]; finding: string[] } {
  return {
    errno: TOPICS.filter((t) => t.type === 'errno').map((t) => t.name),
    reason: TOPICS.filter((t) => t.type === 'reason').map((t) => t.name),
    finding: TOPICS.filter((t) => t.type === 'finding').map((t) => t.name),
  };
}

export function findTopic(name: string): Topic | undefined {
  const n = name.trim();
  return TOPICS.find((t) => t.name === n) ?? TOPICS.find((t) => t.name.toLowerCase() === n.toLowerCase());
}

/** Short message of an errno for a report line: "Connection reset by peer". */
export function errnoMessage(name: string): string | null {
  const t = TOPICS.find((x) => x.type === 'errno' && x.name === name);
  return t?.messages?.[0]?.[1] ?? null;
}

/** The text `tcpsleuth explain` prints, or null for an unknown topic. */
export function explainTopic(name: string): string | null {
  const t = findTopic(name);
  if (t === undefined) return null;
  const kind = t.type === 'errno' ? 'errno' : t.type === 'reason' ? 'kernel reset reason (enum sk_rst_reason)' : 'finding';
  const lines = [`${t.name} — ${kind}`, `${t.title}.`, ''];
  const section = (head: string, items: string[]): void => {
    if (items.length === 0) return;
    lines.push(head);
    for (const i of items) lines.push(`  - ${i}`);
    lines.push('');
  };
  if (t.messages) {
    lines.push('How it appears in logs:');
    for (const [who, msg] of t.messages) lines.push(`  ${`${who}:`.padEnd(26)}${msg}`);
    lines.push('');
  }
  section('Causes:', t.causes);
  section('How to tell them apart:', t.tell);
  section('What to check:', t.check);
  return lines.join('\n').trimEnd();
}
