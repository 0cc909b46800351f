/**
 * Terminal hygiene: anything that came from a capture or a peer is escaped before it reaches a
 * terminal, so no byte sequence in the input can move the cursor or recolour the screen.
 */
/**
 * Characters that reorder the text around them (Unicode bidirectional controls: LRE, RLE, PDF,
 * LRO, RLO, LRI, RLI, FSI, PDI, LRM, RLM, ALM). A name holding U+202E shows the rest of the line
 * reversed ("Trojan Source"), so they are escaped like control characters.
 */
const BIDI = '\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069';
const UNSAFE_FOR_TERMINAL = new RegExp(`[\\x00-\\x1f\\x7f-\\x9f${BIDI}]`, 'g');
const UNSAFE_IN_JSON = new RegExp(`[\\x7f-\\x9f${BIDI}]`, 'g');

export function escapeForTerminal(s: string): string {
  // C0 controls, DEL, C1 controls (including CSI 0x9b) become \xNN; bidirectional controls \u{NNNN}.
  return s.replace(UNSAFE_FOR_TERMINAL, (ch) => {
    const c = ch.charCodeAt(0);
    return c < 0x100 ? `\\x${c.toString(16).padStart(2, '0')}` : `\\u{${c.toString(16)}}`;
  });
}

/**
 * JSON text that is safe to print on a terminal: JSON.stringify escapes C0 controls but writes
 * DEL, C1 controls (U+009B is a CSI on many terminals) and bidirectional controls as they are.
 * They can only occur inside strings, where \uXXXX means the same character to any JSON reader.
 */
export function escapeJsonForTerminal(json: string): string {
  return json.replace(UNSAFE_IN_JSON, (ch) => `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** JSON.stringify for one JSON Lines record that may reach a terminal (see escapeJsonForTerminal). */
export function jsonLine(value: unknown): string {
  return escapeJsonForTerminal(JSON.stringify(value));
}

/** 10000-01-01: from there on a date no longer has four year digits (and a JavaScript Date ends at 8.64e12 s). */
const FOUR_DIGIT_YEARS_END = 253402300800;

/**
 * "2024-03-01 00:00:00.101000" (UTC). A time before the epoch or from the year 10000 on — only a
 * corrupt pcapng timestamp gives one — is given in seconds since the epoch.
 */
export function formatTime(epochSeconds: number): string {
  if (!(epochSeconds >= 0 && epochSeconds < FOUR_DIGIT_YEARS_END)) return `${epochSeconds.toFixed(6)} s after the epoch`;
  const d = new Date(Math.floor(epochSeconds * 1000));
  const micros = Math.round((epochSeconds % 1) * 1e6) % 1e6;
  return `${d.toISOString().slice(0, 19).replace('T', ' ')}.${String(micros).padStart(6, '0')}`;
}

export function formatDuration(seconds: number | null): string {
  if (seconds === null) return '-';
  if (seconds < 1) return `${(seconds * 1000).toFixed(1)}ms`;
  if (seconds < 120) return `${seconds.toFixed(2)}s`;
  return `${(seconds / 60).toFixed(1)}min`;
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n}B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)}KiB`;
  if (n < 1024 * 1024 * 1024) return `${(n / 1024 / 1024).toFixed(1)}MiB`;
  return `${(n / 1024 / 1024 / 1024).toFixed(2)}GiB`;
}

export function endpointText(addr: string, port: number): string {
  return addr.includes(':') ? `[${addr}]:${port}` : `${addr}:${port}`;
}

/** "1 connection", "2 connections". */
export function counted(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`;
}
