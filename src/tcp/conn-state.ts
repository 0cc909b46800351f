/**
 * Zeek's conn_state (scripts/base/protocols/conn/main.zeek, conn_state()): a summary of how a
 * connection ended, computed once from the final endpoint states, payload sizes and history.
 */
import type { Connection } from './connection.js';
import { EndpointState, isInactiveOrPartial } from './endpoint.js';
import { RSTOS0_HISTORY } from './history.js';

export type ConnState = 'S0' | 'S1' | 'SF' | 'REJ' | 'S2' | 'S3' | 'RSTO' | 'RSTR' | 'RSTOS0' | 'RSTRH' | 'SH' | 'SHR' | 'OTH';

export const CONN_STATE_MEANING: Readonly<Record<ConnState, string>> = {
  S0: 'connection attempt seen, no reply',
  S1: 'established, not terminated',
  SF: 'normal establishment and termination',
  REJ: 'connection attempt rejected',
  S2: 'established, originator closed, no reply from responder',
  S3: 'established, responder closed, no reply from originator',
  RSTO: 'established, originator aborted (sent a RST)',
  RSTR: 'responder sent a RST',
  RSTOS0: 'originator sent a SYN followed by a RST, never saw a SYN-ACK',
  RSTRH: 'responder sent a RST, originator never seen or only mid-stream',
  SH: 'originator sent a SYN followed by a FIN, no SYN-ACK from the responder',
  SHR: 'responder sent a FIN, originator never seen or only mid-stream',
  OTH: 'no SYN seen, just midstream traffic',
};

export function connState(c: Connection): ConnState {
  const os = c.orig.state;
  const rs = c.resp.state;
  const oInactive = isInactiveOrPartial(os);
  const rInactive = isInactiveOrPartial(rs);
  if (rs === EndpointState.Reset) {
    if (os === EndpointState.SynSent || os === EndpointState.SynAckSent || (os === EndpointState.Reset && c.orig.size(c.resp) === 0 && c.resp.size(c.orig) === 0)) {
      return 'REJ';
    }
    return oInactive ? 'RSTRH' : 'RSTR';
  }
  if (os === EndpointState.Reset) {
    if (rInactive) return RSTOS0_HISTORY.test(c.history) ? 'RSTOS0' : 'OTH';
    return 'RSTO';
  }
  if (rs === EndpointState.Closed && os === EndpointState.Closed) return 'SF';
  if (os === EndpointState.Closed) return rInactive ? 'SH' : 'S2';
  if (rs === EndpointState.Closed) return oInactive ? 'SHR' : 'S3';
  if (os === EndpointState.SynSent && rs === EndpointState.Inactive) return 'S0';
  if (os === EndpointState.Established && rs === EndpointState.Established) return 'S1';
  return 'OTH';
}
