/**
 * What the report calls a side of a connection: client and server when the capture shows the
 * handshake (who sent the SYN is known), else originator and responder (Zeek's guess from the
 * first packet).
 */
import type { ConnectionRecord } from '../analyze/records.js';

export function sideName(r: Pick<ConnectionRecord, 'history'>, side: 'orig' | 'resp'): string {
  const handshake = r.history.includes('S') || r.history.includes('h');
  if (side === 'orig') return handshake ? 'client' : 'originator';
  return handshake ? 'server' : 'responder';
}
