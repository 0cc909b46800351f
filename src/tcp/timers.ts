/**
 * Zeek's connection timers (defaults from init-bare.zeek), evaluated lazily.
 *
 * Zeek fires timers as network time passes; a connection removed by a timer is logged, and a
 * later packet on the same 4-tuple starts a new connection. Between two packets a connection's
 * state does not change, so the moment a timer would have removed it can be computed exactly
 * when the next packet arrives (or when the sweep looks at it): `removalTime()`.
 */
import type { Connection } from './connection.js';
import { EndpointState } from './endpoint.js';

/** tcp_SYN_timeout: the first ExpireTimer check after a connection is created. */
export const TCP_SYN_TIMEOUT = 5;
/** tcp_session_timer: ExpireTimer re-checks this often. */
export const TCP_SESSION_TIMER = 6;
/** tcp_connection_linger: quiet this long after a close before ExpireTimer removes it. */
export const TCP_CONNECTION_LINGER = 5;
/** tcp_attempt_delay: an unanswered SYN is given up after this long (S0). */
export const TCP_ATTEMPT_DELAY = 5;
/** tcp_close_delay: a completed close is flushed this long after the last packet. */
export const TCP_CLOSE_DELAY = 5;
/** udp_inactivity_timeout: Zeek uses it for TCP connections until the handshake completes. */
export const HANDSHAKE_INACTIVITY_TIMEOUT = 60;
/** tcp_inactivity_timeout. */
export const TCP_INACTIVITY_TIMEOUT = 300;
/** port_inactivity_timeouts (base/protocols/conn/inactivity.zeek): interactive services get an hour. */
export const INTERACTIVE_PORTS: ReadonlySet<number> = new Set([21, 22, 23, 513]);
export const INTERACTIVE_INACTIVITY_TIMEOUT = 3600;

/** ExpireTimer's test: at least one side closed and the connection looks over, or nothing ever happened. */
function expireConditionHolds(c: Connection): boolean {
  const o = c.orig;
  const r = c.resp;
  if (o.didClose || r.didClose) {
    if (
      (o.didClose && r.didClose) ||
      o.state === EndpointState.Reset ||
      r.state === EndpointState.Reset ||
      o.state === EndpointState.Inactive ||
      r.state === EndpointState.Inactive
    ) {
      return true;
    }
  }
  return r.state === EndpointState.Inactive && o.state === EndpointState.Inactive;
}

function attemptConditionHolds(c: Connection): boolean {
  const os = c.orig.state;
  return c.isActive && (os === EndpointState.SynSent || os === EndpointState.SynAckSent) && c.resp.state === EndpointState.Inactive;
}

/**
 * The time at which Zeek would remove this connection if no further packet arrived for it.
 * Infinity never happens in practice: the inactivity timer always runs.
 */
export function removalTime(c: Connection): number {
  let t = c.lastTime + c.inactivityTimeout;
  if (c.deleteAt < t) t = c.deleteAt;
  if (c.attemptAt < t && attemptConditionHolds(c)) t = c.attemptAt;
  if (c.isActive && expireConditionHolds(c)) {
    // Each chain ticks every TCP_SESSION_TIMER; it removes at the first tick strictly after last_time + linger.
    const quietAfter = c.lastTime + TCP_CONNECTION_LINGER;
    for (const tick of c.expireTicks) {
      let due = tick;
      if (due <= quietAfter) due += Math.floor((quietAfter - due) / TCP_SESSION_TIMER + 1) * TCP_SESSION_TIMER;
      if (due < t) t = due;
    }
  }
  return t;
}

/**
 * Brings the timer state forward to time `now` (exclusive of removal, which the caller checked):
 * an attempt timer that fired without effect is dropped, expire chains that fired are moved to
 * their next tick or stop (Zeek stops re-arming them once the connection is inactive).
 */
export function advanceTimers(c: Connection, now: number): void {
  if (c.attemptAt <= now) c.attemptAt = Infinity;
  const ticks = c.expireTicks;
  for (let i = ticks.length - 1; i >= 0; i--) {
    let tick = ticks[i]!;
    if (tick > now) continue;
    if (!c.isActive) {
      ticks.splice(i, 1);
      continue;
    }
    tick += Math.floor((now - tick) / TCP_SESSION_TIMER + 1) * TCP_SESSION_TIMER;
    ticks[i] = tick;
  }
}
