/** Exit status of every tcpsleuth command (documented in the README and in each --help). */
export const EXIT = {
  OK: 0,
  /** The user asked (--fail-on) to be told about findings, and there are some. */
  FINDINGS: 1,
  /** Bad usage, an input that cannot be read at all, or output that cannot be written. */
  UNREADABLE: 2,
  /** The input is damaged part-way; everything before the fault was reported. */
  DAMAGED: 3,
  /** A bug in tcpsleuth (sysexits' EX_SOFTWARE): the message says "internal error" and has the stack. */
  INTERNAL: 70,
  /**
   * Stopped by Ctrl-C, after reporting what it had: the process then ends by its own SIGINT, as a
   * shell expects of a program that caught it, which the shell shows as 130 (128 + SIGINT).
   */
  INTERRUPTED: 130,
} as const;
