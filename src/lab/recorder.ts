/**
 * The wire view: tcpdump inside the scenario's namespace, started before any traffic and stopped
 * only once the file is known to be complete.
 *
 * Start: wait for tcpdump's "listening on" (before it, packets are not captured). Stop: send a
 * marker datagram through the namespace and wait until tcpdump has *printed* it (`--print` with
 * `-l`), which proves every earlier packet was read and, with -U, written; then SIGINT, and wait
 * for exit (the pcap file is closed). The marker is a UDP datagram to the discard port, so the
 * capture holds the marker too: analyze counts it as one non-TCP frame.
 */
import { type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { TsleuthError } from '../errors.js';
import type { NetNamespace } from './netns.js';

export const MARKER_PORT = 9;

export interface CaptureStats {
  file: string;
  iface: string;
  captured: number | null;
  droppedByKernel: number | null;
}

export class CaptureRecorder {
  readonly file: string;
  readonly iface: string;
  private readonly child: ChildProcess;
  private out = '';
  private err = '';
  private lineWaiters: { match: (s: string) => boolean; resolve: () => void }[] = [];

  private constructor(child: ChildProcess, file: string, iface: string) {
    this.child = child;
    this.file = file;
    this.iface = iface;
    child.stdout!.setEncoding('utf8');
    child.stdout!.on('data', (s: string) => {
      this.out += s;
      this.check();
    });
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (s: string) => {
      this.err += s;
      this.check();
    });
  }

  private check(): void {
    const text = this.out + this.err;
    this.lineWaiters = this.lineWaiters.filter((w) => {
      if (!w.match(text)) return true;
      w.resolve();
      return false;
    });
  }

  private waitText(match: (s: string) => boolean, ms: number, what: string): Promise<void> {
    if (match(this.out + this.err)) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new TsleuthError('TSL_ERR_ENV', `tcpdump on ${this.iface}: no ${what} within ${ms} ms: ${this.err.trim()}`)), ms);
      const exit = (): void => reject(new TsleuthError('TSL_ERR_ENV', `tcpdump on ${this.iface} exited before ${what}: ${this.err.trim()}`));
      this.child.once('exit', exit);
      this.lineWaiters.push({
        match,
        resolve: () => {
          clearTimeout(timer);
          this.child.off('exit', exit);
          resolve();
        },
      });
    });
  }

  /** Starts tcpdump on `iface` in `ns` writing `file`; resolves once it is listening. */
  static async start(ns: NetNamespace, iface: string, file: string): Promise<CaptureRecorder> {
    const args = ['-U', '--immediate-mode', '-B', '32768', '-n', '-l', '--print', '-i', iface, '-w', file, `tcp or (udp and dst port ${MARKER_PORT})`];
    const child = ns.spawn('tcpdump', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const failed = once(child, 'error').then(([e]) => {
      throw (e as NodeJS.ErrnoException).code === 'ENOENT' ? new TsleuthError('TSL_ERR_ENV', 'tcpdump is not installed: run scripts/setup.sh or apt-get install tcpdump') : (e as Error);
    });
    const rec = new CaptureRecorder(child, file, iface);
    await Promise.race([rec.waitText((s) => s.includes('listening on'), 10_000, '"listening on"'), failed]);
    return rec;
  }

  /**
   * Waits until tcpdump printed the marker datagram (sent by `sendMarker`), then stops it.
   * Returns tcpdump's own counts.
   */
  async stop(markerDst: string): Promise<CaptureStats> {
    const needle = `> ${markerDst}.${MARKER_PORT}: UDP`;
    try {
      await this.waitText((s) => s.includes(needle), 5000, `marker datagram to ${markerDst}.${MARKER_PORT}`);
    } finally {
      if (this.child.exitCode === null && this.child.signalCode === null) {
        const gone = once(this.child, 'exit');
        this.child.kill('SIGINT');
        const t = setTimeout(() => this.child.kill('SIGKILL'), 5000);
        await gone;
        clearTimeout(t);
      }
    }
    const cap = /(\d+) packets? captured/.exec(this.err);
    const drop = /(\d+) packets? dropped by kernel/.exec(this.err);
    return { file: this.file, iface: this.iface, captured: cap ? Number(cap[1]) : null, droppedByKernel: drop ? Number(drop[1]) : null };
  }

  /** Stops without waiting for a marker (error paths, interruptions); resolves once tcpdump has exited. */
  async kill(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const gone = once(this.child, 'exit');
    this.child.kill('SIGKILL');
    await gone;
  }
}
