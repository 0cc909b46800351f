/**
 * Does the capture-only diagnosis agree with the kernel? For every RST of a connection, the
 * findings analyze produced from the capture alone are matched against the kernel's account:
 * same sender (finding.by vs the RST's side) and same reason (finding.reason vs tcp_send_reset's
 * sk_rst_reason). An RST the TCP stack did not send (a firewall) agrees with a finding by
 * "network". Where the wire cannot tell two reasons apart the diagnosis says UNKNOWN with its
 * candidates: that is "ambiguous" — honest, and counted apart from a real agreement — when the
 * kernel's reason is among the candidates, and a disagreement when it is not.
 */
import type { TruthConnection } from './truth.js';

export type DiagnosisStatus = 'no-diagnosis-yet' | 'agrees' | 'agrees-or-ambiguous' | 'disagrees' | 'partial';

export interface DiagnosisCheck {
  /** Index into the connection's resets. */
  reset: number;
  kernel: { by: 'orig' | 'resp'; reason: string | null };
  result: 'agrees' | 'ambiguous' | 'disagrees' | 'no-finding';
  /** The finding that was compared (the matching one, else the first one). */
  finding: { kind: string; by: string; reason: string } | null;
}

export function compareDiagnosis(c: Pick<TruthConnection, 'resets' | 'findings'>): DiagnosisCheck[] {
  return c.resets.map((r, i) => {
    const kernel = { by: r.by, reason: r.kernel?.reason ?? null };
    const fromStack = r.kernel !== null;
    const match = c.findings.find((f) => (fromStack ? f.by === r.by && f.reason === kernel.reason : f.by === 'network' || (f.by === r.by && f.reason === 'NETFILTER')));
    const ambiguous =
      match === undefined && fromStack ? c.findings.find((f) => f.by === r.by && f.reason === 'UNKNOWN' && kernel.reason !== null && (f.candidates ?? []).includes(kernel.reason)) : undefined;
    const shown = match ?? ambiguous ?? c.findings[0] ?? null;
    return {
      reset: i,
      kernel,
      result: match !== undefined ? 'agrees' : ambiguous !== undefined ? 'ambiguous' : c.findings.length === 0 ? 'no-finding' : 'disagrees',
      finding: shown === null ? null : { kind: shown.kind, by: shown.by, reason: shown.reason },
    };
  });
}
