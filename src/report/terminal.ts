/**
 * Terminal hygiene: anything that came from a capture or a peer is escaped before it reaches a
 * terminal, so no byte sequence in the input can move the cursor or recolour the screen.
 */
export function escapeForTerminal(s: string): string {
  // C0 controls, DEL, C1 controls (including CSI 0x9b) become visible escapes.
  return s.replace(/[\x00-\x1f\x7f-\x9f]/g, (ch) => `\\x${ch.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

export function formatTime(epochSeconds: number): string {
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
