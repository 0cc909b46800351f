/**
 * Does the capture-only diagnosis agree with the kernel? For every RST of a connection, the
 * findings analyze produced from the capture alone are matched against the kernel's account:
 * same sender (finding.by vs the RST's side) and same reason (finding.reason vs tcp_send_reset's
 * sk_rst_reason). An RST the TCP stack did not send (a firewall) agrees with a finding by
 * "network". Until the diagnosis layer fills `findings`, every RST is "no-finding".
 */
import type { TruthConnection } from './truth.js';

export type DiagnosisStatus = 'no-diagnosis-yet' | 'agrees' | 'disagrees' | 'partial';

export interface DiagnosisCheck {
  /** Index into the connection's resets. */
  reset: number;
  kernel: { by: 'orig' | 'resp'; reason: string | null };
  result: 'agrees' | 'disagrees' | 'no-finding';
  /** The finding that was compared (the matching one, else the first one). */
  finding: { kind: string; by: string; reason: string } | null;
}

export function compareDiagnosis(c: Pick<TruthConnection, 'resets' | 'findings'>): DiagnosisCheck[] {
  return c.resets.map((r, i) => {
    const kernel = { by: r.by, reason: r.kernel?.reason ?? null };
    const fromStack = r.kernel !== null;
    const match = c.findings.find((f) => (fromStack ? f.by === r.by && f.reason === kernel.reason : f.by === 'network' || (f.by === r.by && f.reason === 'NETFILTER')));
    const shown = match ?? c.findings[0] ?? null;
    return {
      reset: i,
      kernel,
      result: match !== undefined ? 'agrees' : c.findings.length === 0 ? 'no-finding' : 'disagrees',
      finding: shown === null ? null : { kind: shown.kind, by: shown.by, reason: shown.reason },
    };
  });
}
