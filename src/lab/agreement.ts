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

/**
 * - `no-rst`: no RST reached the capture, so the capture-only diagnosis has nothing to be
 *   compared on (RSTs dropped before the capture point are counted as `not_on_wire`).
 * - `agrees`: every RST on the wire has a finding with the kernel's sender and reason.
 * - `agrees-or-ambiguous`: every one agrees or is ambiguous (UNKNOWN with the kernel's reason
 *   among the candidates), at least one ambiguous.
 * - `disagrees`: none agrees or is ambiguous (a wrong finding, or none).
 * - `partial`: some do, some do not.
 */
export type DiagnosisStatus = 'no-rst' | 'agrees' | 'agrees-or-ambiguous' | 'disagrees' | 'partial';

export interface DiagnosisCheck {
  /** Index into the connection's resets. */
  reset: number;
  kernel: { by: 'orig' | 'resp'; reason: string | null };
  /** `not-on-wire`: the RST never reached the capture point; the capture cannot show it, so it is not compared. */
  result: 'agrees' | 'ambiguous' | 'disagrees' | 'no-finding' | 'not-on-wire';
  /** The finding that was compared (the matching one, else the first one). */
  finding: { kind: string; by: string; reason: string } | null;
}

export interface DiagnosisSummary {
  status: DiagnosisStatus;
  agree: number;
  ambiguous: number;
  disagree: number;
  /** RSTs on the wire with no finding at all for their connection. */
  undiagnosed: number;
  /** RSTs the kernel sent that never reached the capture (not compared). */
  not_on_wire: number;
}

export function compareDiagnosis(c: Pick<TruthConnection, 'resets' | 'findings'>): DiagnosisCheck[] {
  return c.resets.map((r, i) => {
    const kernel = { by: r.by, reason: r.kernel?.reason ?? null };
    if (r.wire === null) return { reset: i, kernel, result: 'not-on-wire', finding: null };
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

/** The run's verdict on the capture-only diagnosis, over every RST of every connection. */
export function summarizeDiagnosis(checks: DiagnosisCheck[]): DiagnosisSummary {
  const count = (r: DiagnosisCheck['result']): number => checks.filter((d) => d.result === r).length;
  const agree = count('agrees');
  const ambiguous = count('ambiguous');
  const disagree = count('disagrees');
  const undiagnosed = count('no-finding');
  const compared = agree + ambiguous + disagree + undiagnosed;
  const status: DiagnosisStatus =
    compared === 0 ? 'no-rst' : agree === compared ? 'agrees' : agree + ambiguous === compared ? 'agrees-or-ambiguous' : agree + ambiguous === 0 ? 'disagrees' : 'partial';
  return { status, agree, ambiguous, disagree, undiagnosed, not_on_wire: count('not-on-wire') };
}
