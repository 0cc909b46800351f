/**
 * Zeek's connection history: one letter per kind of event, upper case for the originator,
 * lower case for the responder (see ../shared/conformance/zeek/README.md, "history").
 *
 * "Seen once" letters are guarded by a bit mask, originator bits in the low 16, responder bits
 * in the high 16 — Zeek's HIST_* constants. "Scaled" letters (C, T, W, G) are added on the 1st,
 * 10th, 100th, ... occurrence.
 */
export const HIST_SYN_PKT = 0x1;
export const HIST_FIN_PKT = 0x2;
export const HIST_RST_PKT = 0x4;
export const HIST_FIN_RST_PKT = 0x8;
export const HIST_DATA_PKT = 0x10;
export const HIST_ACK_PKT = 0x20;
export const HIST_MULTI_FLAG_PKT = 0x40;

/** Per-endpoint counter and next threshold of one scaled letter. */
export class ScaledCounter {
  count = 0;
  threshold = 1;

  /** Counts one event; true when this event is the 1st, 10th, 100th, ... */
  hit(): boolean {
    if (++this.count === this.threshold) {
      this.threshold *= 10;
      return true;
    }
    return false;
  }
}

/** The regular expression conn_state() uses for RSTOS0: the whole history must match. */
export const RSTOS0_HISTORY = /^\^?S[^HAFGIQ]*R.*$/;
