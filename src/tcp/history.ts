/**
 * Zeek's connection history: one letter per kind of event, upper case for the originator,
 * lower case for the responder (see ../shared/conformance/zeek/README.md, "history").
 *
 * "Seen once" letters are guarded by a bit mask, originator bits in the low 16, responder bits
 * in the high 16 — Zeek's HIST_* constants. "Scaled" letters (C, T, W, G) are added on the 1st,
 * 10th, 100th, ... occurrence of their event, counted per endpoint.
 */
export const HIST_SYN_PKT = 0x1;
export const HIST_FIN_PKT = 0x2;
export const HIST_RST_PKT = 0x4;
export const HIST_FIN_RST_PKT = 0x8;
export const HIST_DATA_PKT = 0x10;
export const HIST_ACK_PKT = 0x20;
export const HIST_MULTI_FLAG_PKT = 0x40;

/** True for the 1st, 10th, 100th, ... event: when a scaled letter is added (Zeek's ScaledHistoryEntry, base 10). */
export function isScaledMilestone(count: number): boolean {
  let n = count;
  while (n >= 10 && n % 10 === 0) n /= 10;
  return n === 1;
}

/** The regular expression conn_state() uses for RSTOS0: the whole history must match. */
export const RSTOS0_HISTORY = /^\^?S[^HAFGIQ]*R.*$/;
