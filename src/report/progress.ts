/**
 * A one-line progress indicator for long reads, on stderr and only when stderr is a terminal,
 * so it never mixes with the report on stdout or with --json.
 */
import type { AnalyzeProgress } from '../analyze/analyze.js';
import { formatBytes } from './terminal.js';

const INTERVAL_MS = 250;

export class ProgressLine {
  private readonly started = Date.now();
  private lastDraw = 0;
  private drawn = false;
  private readonly out: NodeJS.WriteStream;

  constructor(out: NodeJS.WriteStream = process.stderr) {
    this.out = out;
  }

  static enabled(out: NodeJS.WriteStream = process.stderr): boolean {
    return out.isTTY === true;
  }

  update(p: AnalyzeProgress): void {
    const now = Date.now();
    if (now - this.lastDraw < INTERVAL_MS) return;
    this.lastDraw = now;
    const secs = (now - this.started) / 1000;
    const rate = secs > 0 ? p.frames / secs : 0;
    let line = `reading ${formatBytes(p.sourceBytes)}`;
    if (p.sourceSize !== undefined && p.sourceSize > 0) {
      const frac = p.sourceBytes / p.sourceSize;
      const eta = frac > 0 ? secs / frac - secs : 0;
      line += ` of ${formatBytes(p.sourceSize)} (${(frac * 100).toFixed(0)}%), ETA ${eta.toFixed(0)}s`;
    }
    line += `, ${p.frames} packets, ${(rate / 1e6).toFixed(2)} M packets/s`;
    this.out.write(`\r\x1b[2K${line}`);
    this.drawn = true;
  }

  clear(): void {
    if (this.drawn) this.out.write('\r\x1b[2K');
    this.drawn = false;
  }
}
