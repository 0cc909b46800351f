/**
 * Text for a person: one line per kernel event, the socket table, the leak report, the count
 * summary. Everything that came from the kernel or a peer (comm, symbol names) goes through
 * escapeForTerminal first.
 */
import { endpointText, escapeForTerminal } from '../report/terminal.js';
import { closeWaitTuple, explainProcessLeaks, type LeakReport } from './leaks.js';
import type { ReasonCount } from './reason-count.js';
import type { TcpSocket } from './tcp-socket.js';
import { shortStateName } from './tcp-states.js';
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

export function formatSocketTable(sockets: TcpSocket[]): string {
  const head = ['STATE', 'LOCAL', 'PEER', 'RECV-Q', 'SEND-Q', 'RTT', 'RETR', 'UNACK', 'LOST', 'LAST-RECV', 'LAST-SEND', 'TIMER', 'PROCESS'];
  const rows = sockets.map((s) => {
    const i = s.tcpInfo;
    return [
      shortStateName(s.state),
      endpointText(s.saddr, s.sport),
      s.stateCode === 10 ? '*' : endpointText(s.daddr, s.dport),
      String(s.rqueue),
      String(s.wqueue),
      i === undefined ? '-' : `${(i.rttUs / 1000).toFixed(2)}ms`,
      i === undefined ? String(s.timerRetrans) : `${i.retransmits}/${i.totalRetrans}`,
      i === undefined ? '-' : String(i.unacked),
      i === undefined ? '-' : String(i.lost),
      i === undefined ? '-' : ms(i.lastDataRecvMs),
      i === undefined ? '-' : ms(i.lastDataSentMs),
      s.timer === 'off' ? '-' : `${s.timer}(${ms(s.timerExpiresMs)})`,
      s.owners.length === 0 ? '-' : s.owners.map((o) => `${escapeForTerminal(o.comm)}/${o.pid}/fd${o.fd}`).join(','),
    ];
  });
  const widths = head.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c]!.length)));
  return [head, ...rows].map((r) => r.map((v, c) => (c === r.length - 1 ? v : v.padEnd(widths[c]!))).join(' ')).join('\n');
}

export function formatLeakReport(report: LeakReport, detailLimit = 10): string {
  const out: string[] = [];
  if (report.processes.length === 0) {
    out.push('no socket leaks found: no process holds CLOSE_WAIT sockets or unidentifiable socket fds, and none is near its file limit');
  }
  for (const p of report.processes) {
    const limit = p.nofileSoft === null ? 'unlimited' : String(p.nofileSoft);
    const growth = p.growth === undefined ? '' : `  (since last sample: CLOSE_WAIT ${p.growth.closeWait >= 0 ? '+' : ''}${p.growth.closeWait}, unidentified ${p.growth.unidentified >= 0 ? '+' : ''}${p.growth.unidentified}, fds ${p.growth.fdCount >= 0 ? '+' : ''}${p.growth.fdCount})`;
    out.push(`pid ${p.pid} (${escapeForTerminal(p.comm)}): ${p.closeWait.length} CLOSE_WAIT, ${p.unidentified.length} unidentified socket fds, ${p.fdCount} fds open of ${limit} allowed (${p.socketFdCount} sockets)${growth}`);
    for (const c of p.closeWait.slice(0, detailLimit)) {
      const age = c.sinceLastAckMs === null ? '' : `, peer's last ACK ${ms(c.sinceLastAckMs)} ago`;
      const seen = report.takenAt > c.firstSeen ? `, seen for ${ms(Math.round((report.takenAt - c.firstSeen) * 1000))}` : '';
      out.push(`  fd ${c.fd}: ${closeWaitTuple(c)}  CLOSE-WAIT${c.unreadBytes > 0 ? `, ${c.unreadBytes} unread bytes` : ''}${age}${seen}`);
    }
    if (p.closeWait.length > detailLimit) out.push(`  … ${p.closeWait.length - detailLimit} more CLOSE_WAIT sockets`);
    if (p.unidentified.length > 0) {
      const shown = p.unidentified.slice(0, detailLimit).map((u) => `fd ${u.fd} (inode ${u.inode})`).join(', ');
      out.push(`  unidentified: ${shown}${p.unidentified.length > detailLimit ? ', …' : ''}`);
    }
    for (const why of explainProcessLeaks(p)) out.push(`  → ${why}`);
  }
  if (report.unreadable > 0) out.push(`(${report.unreadable} processes could not be inspected: they exited during the scan, or, when not root, belong to another user)`);
  return out.join('\n');
}
