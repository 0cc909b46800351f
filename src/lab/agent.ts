/**
 * A socket program for the lab: started inside a scenario's namespace (`ip netns exec`), it makes
 * the socket calls it is told to, one at a time, exactly like the C programs of the seed
 * documents, and reports each call's return value and errno as a JSON line.
 *
 *   stdin:  {"id":1,"op":"connect","sock":"conn","addr":"198.18.4.1","port":8080,"bindAddr":"198.18.4.129"}
 *   stdout: {"type":"reply","id":1,"outcomes":[{"type":"outcome","call":"connect","errno":"ECONNREFUSED",…}]}
 *
 * Blocking calls block this process only; the lab waits for the reply. Every blocking call takes
 * a timeout (SO_RCVTIMEO/SO_SNDTIMEO, or poll), so a scenario that goes wrong ends with EAGAIN
 * instead of hanging. The program exits when its stdin closes (the lab went away).
 */
import { errnoName } from '../kernel/errno.js';
import { LINUX as L, loadNative, type SockName } from './native.js';
import type { AgentCommand, AgentReply, Endpoint, Outcome } from './outcome.js';

const native = loadNative();
const role = process.argv[2] ?? 'app';

interface Sock {
  fd: number;
  family: number;
  local: Endpoint | null;
  remote: Endpoint | null;
}

const socks = new Map<string, Sock>();
let outcomes: Outcome[] = [];

function now(): number {
  return (performance.timeOrigin + performance.now()) / 1000;
}

function familyOf(addr: string): number {
  return addr.includes(':') ? L.AF_INET6 : L.AF_INET;
}

function nameOf(r: SockName | number): Endpoint | null {
  return typeof r === 'number' ? null : { addr: r.addr.replace(/^::ffff:/, ''), port: r.port };
}

/** Runs one system call and records it; returns its raw result (>= 0, or -errno). */
function sys(call: string, sockName: string, fn: () => number, arg?: string, bytes?: number): number {
  const start = now();
  const r = fn();
  const s = socks.get(sockName);
  const o: Outcome = {
    type: 'outcome',
    role,
    pid: process.pid,
    call,
    sock: sockName,
    ret: r < 0 ? -1 : r,
    errno: r < 0 ? errnoName(-r) : null,
    start,
    end: now(),
    local: s?.local ?? null,
    remote: s?.remote ?? null,
  };
  if (arg !== undefined) o.arg = arg;
  if (bytes !== undefined) o.bytes = bytes;
  outcomes.push(o);
  return r;
}

function need(name: unknown): Sock {
  const s = socks.get(String(name));
  if (s === undefined) throw new Error(`no socket named ${JSON.stringify(name)}`);
  return s;
}

const OPTS: Record<string, [number, number]> = {
  SO_REUSEADDR: [L.SOL_SOCKET, L.SO_REUSEADDR],
  SO_KEEPALIVE: [L.SOL_SOCKET, L.SO_KEEPALIVE],
  SO_RCVBUF: [L.SOL_SOCKET, L.SO_RCVBUF],
  SO_SNDBUF: [L.SOL_SOCKET, L.SO_SNDBUF],
  TCP_NODELAY: [L.IPPROTO_TCP, L.TCP_NODELAY],
  TCP_KEEPIDLE: [L.IPPROTO_TCP, L.TCP_KEEPIDLE],
  TCP_KEEPINTVL: [L.IPPROTO_TCP, L.TCP_KEEPINTVL],
  TCP_KEEPCNT: [L.IPPROTO_TCP, L.TCP_KEEPCNT],
  TCP_SYNCNT: [L.IPPROTO_TCP, L.TCP_SYNCNT],
  TCP_LINGER2: [L.IPPROTO_TCP, L.TCP_LINGER2],
  TCP_USER_TIMEOUT: [L.IPPROTO_TCP, L.TCP_USER_TIMEOUT],
  IP_BIND_ADDRESS_NO_PORT: [L.IPPROTO_IP, L.IP_BIND_ADDRESS_NO_PORT],
};

/** setsockopt by name; SO_LINGER takes [onoff, seconds]. */
function setOpt(sockName: string, opt: string, value: unknown): number {
  const s = need(sockName);
  if (opt === 'SO_LINGER') {
    const [on, secs] = value as [number, number];
    return sys('setsockopt', sockName, () => native.setLinger(s.fd, on, secs), `SO_LINGER {${on}, ${secs}}`);
  }
  const o = OPTS[opt];
  if (o === undefined) throw new Error(`unknown socket option ${opt}`);
  return sys('setsockopt', sockName, () => native.setsockoptInt(s.fd, o[0], o[1], Number(value)), `${opt}=${String(value)}`);
}

/** SO_RCVTIMEO so a blocking recv/accept ends with EAGAIN after `ms` instead of hanging. */
function recvTimeout(s: Sock, ms: unknown): void {
  native.setTimeout(s.fd, L.SO_RCVTIMEO, typeof ms === 'number' ? ms : 10_000);
}

function newSocket(name: string, family: number): Sock | null {
  const fd = native.socket(family, L.SOCK_STREAM);
  if (fd < 0) {
    socks.set(name, { fd: -1, family, local: null, remote: null });
    sys('socket', name, () => fd);
    return null;
  }
  const s: Sock = { fd, family, local: null, remote: null };
  socks.set(name, s);
  return s;
}

const HOW: Record<string, number> = { SHUT_RD: L.SHUT_RD, SHUT_WR: L.SHUT_WR, SHUT_RDWR: L.SHUT_RDWR };

function run(c: AgentCommand): void {
  const name = String(c['sock'] ?? '');
  switch (c.op) {
    case 'listen': {
      const addr = String(c['addr']);
      const s = newSocket(name, familyOf(addr));
      if (s === null) return;
      native.setsockoptInt(s.fd, L.SOL_SOCKET, L.SO_REUSEADDR, 1);
      // Options set on the listener are inherited by every accepted socket (SO_RCVBUF, …).
      for (const [opt, v] of Object.entries((c['opts'] as Record<string, unknown> | undefined) ?? {})) setOpt(name, opt, v);
      if (sys('bind', name, () => native.bind(s.fd, s.family, addr, Number(c['port']))) < 0) return;
      s.local = nameOf(native.getsockname(s.fd));
      sys('listen', name, () => native.listen(s.fd, Number(c['backlog'] ?? 128)), `backlog ${Number(c['backlog'] ?? 128)}`);
      return;
    }
    case 'connect': {
      // Non-blocking connect, then poll and SO_ERROR, as event loops do: the local port is known
      // (getsockname) while the SYN is out, so even a failed connect names its 4-tuple.
      const addr = String(c['addr']);
      const s = newSocket(name, familyOf(addr));
      if (s === null) return;
      for (const [opt, v] of Object.entries((c['opts'] as Record<string, unknown> | undefined) ?? {})) setOpt(name, opt, v);
      if (c['bindAddr'] !== undefined) {
        // IP_BIND_ADDRESS_NO_PORT: choose the source address now, the port at connect() from ip_local_port_range.
        native.setsockoptInt(s.fd, L.IPPROTO_IP, L.IP_BIND_ADDRESS_NO_PORT, c['bindPort'] === undefined ? 1 : 0);
        if (sys('bind', name, () => native.bind(s.fd, s.family, String(c['bindAddr']), Number(c['bindPort'] ?? 0))) < 0) return;
      }
      s.remote = { addr, port: Number(c['port']) };
      native.setNonblock(s.fd, 1);
      const start = now();
      let r = native.connect(s.fd, s.family, addr, Number(c['port']));
      s.local = nameOf(native.getsockname(s.fd));
      if (r === -L.EINPROGRESS) {
        const ev = native.poll(s.fd, L.POLLOUT, Number(c['timeoutMs'] ?? 10_000));
        if (ev === 0) r = -L.EINPROGRESS; // still connecting when the scenario's patience ran out
        else {
          const err = native.getsockoptInt(s.fd, L.SOL_SOCKET, L.SO_ERROR);
          r = err === 0 ? 0 : -err;
        }
      }
      native.setNonblock(s.fd, 0);
      if (r === 0) s.local = nameOf(native.getsockname(s.fd)) ?? s.local;
      const startAt = outcomes.length;
      sys('connect', name, () => r);
      outcomes[startAt]!.start = start;
      return;
    }
    case 'accept': {
      const l = need(name);
      recvTimeout(l, c['timeoutMs']);
      const as = String(c['as']);
      const fd = native.accept(l.fd);
      if (fd >= 0) socks.set(as, { fd, family: l.family, local: nameOf(native.getsockname(fd)), remote: nameOf(native.getpeername(fd)) });
      sys('accept', fd >= 0 ? as : name, () => fd);
      return;
    }
    case 'setsockopt':
      setOpt(name, String(c['opt']), c['value']);
      return;
    case 'send': {
      const s = need(name);
      const data = Buffer.alloc(Number(c['bytes'] ?? 0), String(c['text'] ?? 'x'));
      sys('send', name, () => native.send(s.fd, data), `${data.length} bytes`);
      return;
    }
    case 'fill': {
      // Writes until the kernel refuses (EAGAIN: the send buffer is full because the peer's
      // receive window is closed); reports the total.
      const s = need(name);
      native.setNonblock(s.fd, 1);
      const chunk = Buffer.alloc(65536, 'z');
      let total = 0;
      let r = 0;
      const deadline = Date.now() + Number(c['timeoutMs'] ?? 5000);
      const start = now();
      for (;;) {
        r = native.send(s.fd, chunk);
        if (r > 0) {
          total += r;
          continue;
        }
        if (r === -L.EAGAIN && Date.now() < deadline && native.poll(s.fd, L.POLLOUT, Number(c['settleMs'] ?? 200)) > 0) continue;
        break;
      }
      native.setNonblock(s.fd, 0);
      const i = outcomes.length;
      sys('send', name, () => r, 'until the kernel refuses', total);
      outcomes[i]!.start = start;
      return;
    }
    case 'recv': {
      const s = need(name);
      recvTimeout(s, c['timeoutMs']);
      const buf = Buffer.alloc(Number(c['max'] ?? 65536));
      const r = native.recv(s.fd, buf);
      sys('recv', name, () => r, `${buf.length} bytes`, r > 0 ? r : 0);
      return;
    }
    case 'shutdown': {
      const s = need(name);
      const how = String(c['how'] ?? 'SHUT_WR');
      sys('shutdown', name, () => native.shutdown(s.fd, HOW[how] ?? L.SHUT_WR), how);
      return;
    }
    case 'close': {
      const s = need(name);
      sys('close', name, () => native.close(s.fd));
      return;
    }
    case 'raw': {
      // A hand-made IP packet (src/lab/packet-craft.ts), sent through an IPPROTO_RAW socket.
      const dst = String(c['dst']);
      const fam = familyOf(dst);
      const fd = native.socket(fam, L.SOCK_RAW);
      socks.set(name, { fd, family: fam, local: null, remote: null });
      if (fd < 0) {
        sys('socket', name, () => fd, 'SOCK_RAW');
        return;
      }
      const pkt = Buffer.from(String(c['hex']), 'hex');
      sys('sendto', name, () => native.sendRaw(fd, pkt, fam, dst), String(c['what'] ?? `${pkt.length} bytes`));
      native.close(fd);
      return;
    }
    default:
      throw new Error(`unknown op ${c.op}`);
  }
}

process.stdin.setEncoding('utf8');
let pending = '';
process.stdin.on('data', (chunk: string) => {
  pending += chunk;
  for (let nl = pending.indexOf('\n'); nl >= 0; nl = pending.indexOf('\n')) {
    const line = pending.slice(0, nl);
    pending = pending.slice(nl + 1);
    if (line.trim() === '') continue;
    const c = JSON.parse(line) as AgentCommand;
    const reply: AgentReply = { type: 'reply', id: c.id, outcomes: [] };
    outcomes = [];
    try {
      run(c);
    } catch (e) {
      reply.error = (e as Error).message;
    }
    reply.outcomes = outcomes;
    process.stdout.write(`${JSON.stringify(reply)}\n`);
  }
});
process.stdin.on('end', () => process.exit(0));
process.stdout.write(`${JSON.stringify({ type: 'ready', pid: process.pid, role })}\n`);
