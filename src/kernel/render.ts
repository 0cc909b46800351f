/**
 * Text for a person: one line per kernel event, the socket table, the leak report, the count
 * summary. Everything that came from the kernel or a peer (comm, symbol names) goes through
 * escapeForTerminal first.
 */
import { endpointText, escapeForTerminal } from '../report/terminal.js';
import { closeWaitTuple, explainProcessLeaks, isLeaking, type LeakReport } from './leaks.js';
import { exitedDuringScan, type SkippedProcess } from './procfs.js';
import type { ReasonCount } from './reason-count.js';
import { finReceived, type TcpSocket } from './tcp-socket.js';
import { shortStateName, TCP_LISTEN, TCP_SYN_SENT } from './tcp-states.js';
import type { KernelEvent } from './trace-events.js';
import { ERRNO_TEXT } from './errno.js';

export const EVENT_LABEL: Readonly<Record<string, string>> = {
  tcp_send_reset: 'RST-SENT',
  tcp_receive_reset: 'RST-RECV',
  kfree_skb: 'DROP',
  tcp_retransmit_skb: 'RETRANS',
  tcp_retransmit_synack: 'RETRANS-SYNACK',
  inet_sock_set_state: 'STATE',
  inet_sk_error_report: 'SK-ERROR',
  sys_enter_socket: 'SOCKET',
};

function clock(epoch: number): string {
  const d = new Date(epoch * 1000);
  const us = Math.floor((epoch % 1) * 1e6);
  return `${String(d.getHours()).padStart(2, '0')}:${String(d.getMinutes()).padStart(2, '0')}:${String(d.getSeconds()).padStart(2, '0')}.${String(us).padStart(6, '0')}`;
}

function tuple(e: KernelEvent): string {
  if (e.saddr === null && e.sport === null) return '-';
  const arrow = e.event === 'tcp_send_reset' || e.event === 'kfree_skb' ? '->' : '<->';
  const s = `${endpointText(e.saddr ?? '?', e.sport ?? 0)} ${arrow} ${endpointText(e.daddr ?? '?', e.dport ?? 0)}`;
  return e.tupleInferred === true ? `${s} (from the RST)` : s;
}

function socketArgs(s: { family: number; type: number; protocol: number }): string {
  const fam = s.family === 2 ? 'AF_INET' : s.family === 10 ? 'AF_INET6' : `family=${s.family}`;
  const base = s.type & 0xf;
  const type = base === 1 ? 'SOCK_STREAM' : base === 2 ? 'SOCK_DGRAM' : base === 3 ? 'SOCK_RAW' : `type=${base}`;
  const flags = [(s.type & 0x800) !== 0 ? 'SOCK_NONBLOCK' : '', (s.type & 0x80000) !== 0 ? 'SOCK_CLOEXEC' : ''].filter((f) => f !== '');
  return `socket(${fam}, ${[type, ...flags].join('|')}, ${s.protocol})`;
}

/** One line for a kernel event: time, event, tuple, state, reason, process. */
export function formatEventLine(e: KernelEvent): string {
  const parts = [clock(e.ts), (EVENT_LABEL[e.event] ?? e.event).padEnd(9), tuple(e)];
  if (e.event === 'inet_sock_set_state') parts.push(`${e.oldState ?? '?'} -> ${e.state ?? '?'}`);
  else if (e.state !== null) parts.push(`state=${e.state}`);
  else if (e.event === 'tcp_send_reset') parts.push('state=-');
  if (e.reason !== null) parts.push(`reason=${escapeForTerminal(e.reason)}`);
  if (e.errnoName !== undefined) parts.push(`errno=${e.errnoName}${ERRNO_TEXT[e.errnoName] ? ` (${ERRNO_TEXT[e.errnoName]})` : ''}`);
  if (e.location !== undefined) parts.push(`at ${escapeForTerminal(e.location)}`);
  if (e.socket !== undefined) parts.push(socketArgs(e.socket));
  let proc = `pid=${e.pid} comm=${escapeForTerminal(e.comm)}`;
  if (!e.processIsOwner) {
    proc += e.noSocket === true ? ' (no socket: the task that happened to run, maybe unrelated)' : e.context !== 'task' ? ` (${e.context}: the task that happened to run, maybe unrelated)` : '';
  }
  parts.push(proc);
  let line = parts.join('  ');
  if (e.stack !== undefined && e.stack.length > 0) line += `\n${e.stack.map((f) => `    ${escapeForTerminal(f)}`).join('\n')}`;
  return line;
}

export function formatCountTable(rows: ReasonCount[], seconds: number): string {
  if (rows.length === 0) return `no events in ${seconds.toFixed(1)}s`;
  const lines = [`${'EVENT'.padEnd(22)} ${'REASON / ERRNO / STATE'.padEnd(36)} ${'COUNT'.padStart(8)} ${'PER SEC'.padStart(9)}  WHERE`];
  for (const r of rows) {
    lines.push(`${r.event.padEnd(22)} ${escapeForTerminal(r.key).padEnd(36)} ${String(r.count).padStart(8)} ${(r.count / Math.max(seconds, 0.001)).toFixed(1).padStart(9)}  ${r.topLocation === undefined ? '' : escapeForTerminal(r.topLocation)}`);
  }
  return lines.join('\n');
}

function ms(n: number | undefined): string {
  if (n === undefined) return '-';
  if (n < 1000) return `${n}ms`;
  if (n < 120_000) return `${(n / 1000).toFixed(1)}s`;
  return `${(n / 60000).toFixed(1)}min`;
}

/** Plural of a count: "1 process", "2 processes". */
function plural(n: number, one: string, many: string): string {
  return `${n} ${n === 1 ? one : many}`;
}

export function formatSocketTable(sockets: TcpSocket[]): string {
  const head = ['STATE', 'LOCAL', 'PEER', 'RECV-Q', 'SEND-Q', 'RTT', 'RETR', 'UNACK', 'LOST', 'LAST-RECV', 'LAST-SEND', 'TIMER', 'PROCESS'];
  let listeners = false;
  const rows = sockets.map((s) => {
    const i = s.tcpInfo;
    const listen = s.stateCode === TCP_LISTEN;
    listeners ||= listen;
    // No RTT, unacked or lost segments, no data times for a listener or a connection that has not
    // been established (the kernel reports 0, or the time since boot for "never").
    const noExchange = listen || s.stateCode === TCP_SYN_SENT;
    return [
      shortStateName(s.state),
      endpointText(s.saddr, s.sport),
      listen ? '*' : endpointText(s.daddr, s.dport),
      // For a listener the kernel's rqueue/wqueue are the accept queue and the backlog (the footnote says so).
      String(s.unreadBytes ?? s.rqueue),
      String(s.wqueue),
      i === undefined || noExchange ? '-' : `${(i.rttUs / 1000).toFixed(2)}ms`,
      i === undefined ? String(s.timerRetrans) : `${i.retransmits}/${i.totalRetrans}`,
      i === undefined || listen ? '-' : String(i.unacked),
      i === undefined || listen ? '-' : String(i.lost),
      // tcpi_bytes_received counts the peer's FIN as one byte.
      i === undefined || noExchange || (i.bytesReceived !== undefined && i.bytesReceived - (finReceived(s.state) ? 1 : 0) <= 0) ? '-' : ms(i.lastDataRecvMs),
      i === undefined || noExchange || i.bytesSent === 0 ? '-' : ms(i.lastDataSentMs),
      s.timer === 'off' ? '-' : `${s.timer}(${ms(s.timerExpiresMs)})`,
      s.owners.length === 0 ? '-' : s.owners.map((o) => `${escapeForTerminal(o.comm)}/${o.pid}/fd${o.fd}`).join(','),
    ];
  });
  const widths = head.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c]!.length)));
  const table = [head, ...rows].map((r) => r.map((v, c) => (c === r.length - 1 ? v : v.padEnd(widths[c]!))).join(' ')).join('\n');
  const notes = ['RECV-Q: bytes not yet read by the application (the peer\'s FIN is not counted); LAST-RECV/LAST-SEND: since data was last received/sent, "-" when none was'];
  if (listeners) notes.push('LISTEN: RECV-Q is the accept queue (connections not yet accept()ed), SEND-Q its limit (the listen() backlog)');
  return `${table}\n\n${notes.join('\n')}`;
}

/**
 * One line about the processes a scan could not look into, or '' when there are none: which,
 * and why, in the words that fit (exited meanwhile; not allowed — and only when not root, the
 * suggestion to be root).
 */
export function formatUnreadable(skipped: readonly SkippedProcess[]): string {
  if (skipped.length === 0) return '';
  const exited = skipped.filter(exitedDuringScan);
  const denied = skipped.filter((s) => !exitedDuringScan(s));
  const parts: string[] = [];
  if (denied.length > 0) {
    const shown = denied.slice(0, 3).map((s) => `pid ${s.pid} (${escapeForTerminal(s.comm)}): cannot read ${s.path} (${s.code})`);
    const root = typeof process.getuid === 'function' && process.getuid() === 0;
    parts.push(`${shown.join(', ')}${denied.length > 3 ? `, and ${denied.length - 3} more` : ''}${root ? '' : ' (other users\' processes need root)'}`);
  }
  if (exited.length > 0) parts.push(`${plural(exited.length, 'process', 'processes')} exited during the scan`);
  return `(${plural(skipped.length, 'process', 'processes')} could not be inspected: ${parts.join('; ')})`;
}

export function formatLeakReport(report: LeakReport, detailLimit = 10): string {
  const out: string[] = [];
  if (!report.processes.some((p) => isLeaking(p) || (p.nofileSoft !== null && p.fdCount >= p.nofileSoft * 0.8))) {
    out.push('no socket leaks found: no process holds CLOSE_WAIT sockets or connections the kernel finished, and none is near its file limit');
  }
  for (const p of report.processes) {
    const limit = p.nofileSoft === null ? 'unlimited' : String(p.nofileSoft);
    const signed = (n: number): string => `${n >= 0 ? '+' : ''}${n}`;
    const growth = p.growth === undefined ? '' : `  (since last sample: CLOSE_WAIT ${signed(p.growth.closeWait)}, finished ${signed(p.growth.finished)}, unlisted ${signed(p.growth.unlisted)}, fds ${signed(p.growth.fdCount)})`;
    out.push(`pid ${p.pid} (${escapeForTerminal(p.comm)}): ${p.closeWait.length} CLOSE_WAIT, ${p.finished.length} finished by the kernel, ${plural(p.unlisted.length, 'unlisted socket fd', 'unlisted socket fds')}, ${p.fdCount} fds open of ${limit} allowed (${plural(p.socketFdCount, 'socket', 'sockets')})${growth}`);
    for (const c of p.closeWait.slice(0, detailLimit)) {
      const age = c.sinceLastAckMs === null ? '' : `, peer's last ACK ${ms(c.sinceLastAckMs)} ago`;
      const seen = report.takenAt > c.firstSeen ? `, seen for ${ms(Math.round((report.takenAt - c.firstSeen) * 1000))}` : '';
      out.push(`  fd ${c.fd}: ${closeWaitTuple(c)}  CLOSE-WAIT${c.unreadBytes > 0 ? `, ${c.unreadBytes} unread bytes` : ''}${age}${seen}`);
    }
    if (p.closeWait.length > detailLimit) out.push(`  … ${p.closeWait.length - detailLimit} more CLOSE_WAIT sockets`);
    for (const [label, list] of [
      ['finished', p.finished],
      ['unlisted', p.unlisted],
    ] as const) {
      if (list.length === 0) continue;
      const shown = list.slice(0, detailLimit).map((u) => `fd ${u.fd} (inode ${u.inode})`).join(', ');
      out.push(`  ${label}: ${shown}${list.length > detailLimit ? ', …' : ''}`);
    }
    for (const why of explainProcessLeaks(p)) out.push(`  → ${why}`);
  }
  const unreadable = formatUnreadable(report.skipped);
  if (unreadable !== '') out.push(unreadable);
  return out.join('\n');
}
