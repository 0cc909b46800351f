/**
 * A live capture taken by tcpdump for `analyze --interface`: tcpdump writes pcap to a pipe, each
 * packet as it is captured (-U), and tcpsleuth reads that pipe as any other stream. tcpdump also
 * knows what no capture file records — how many packets the kernel dropped because tcpdump did
 * not read them in time — and prints it when it stops; that is the capture's own loss, which
 * the report must name before anyone blames the network for missing packets.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import type { Readable } from 'node:stream';
import { TsleuthError } from '../errors.js';

/** tcpdump's kernel buffer (-B, KiB): 32 MiB rides out bursts that the default 2 MiB drops. */
const KERNEL_BUFFER_KIB = 32768;
/** How long tcpdump may take to open the interface. */
const START_TIMEOUT_MS = 15_000;

/** What tcpdump counted, from the lines it prints when it stops. */
export interface TcpdumpStats {
  captured: number;
  receivedByFilter: number;
  droppedByKernel: number;
}

export class TcpdumpCapture {
  /** The pcap stream tcpdump writes. */
  readonly stream: Readable;
  readonly iface: string;
  readonly filter: string;
  private readonly child: ChildProcess;
  private stderr = '';
  private readonly stderrDone: Promise<void>;
  private readonly exited: Promise<number | null>;

  private constructor(child: ChildProcess, iface: string, filter: string) {
    this.child = child;
    this.stream = child.stdout!;
    this.iface = iface;
    this.filter = filter;
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (s: string) => {
      this.stderr += s;
    });
    this.stderrDone = new Promise((resolve) => child.stderr!.once('close', () => resolve()));
    this.exited = new Promise((resolve) => {
      if (child.exitCode !== null) resolve(child.exitCode);
      else child.once('exit', (code) => resolve(code));
    });
    // tcpsleuth may end first (an error, a second Ctrl-C): tcpdump must not outlive it.
    const reap = (): void => this.kill();
    process.once('exit', reap);
    // A child's later 'error' (a kill that fails) must not crash the analysis: its end shows as the stream's.
    child.on('error', () => undefined);
    void this.exited.then(() => process.removeListener('exit', reap));
  }

  /**
   * Starts tcpdump on `iface` with a capture filter (tcpdump's expression words) and returns once
   * it is listening. Throws a TsleuthError with tcpdump's own reason if it cannot start (no such
   * interface, no permission, a bad filter) or is not installed. `signal` stops a start that is
   * still waiting (SIGTERM during start-up): tcpdump is killed and the start rejects.
   */
  static async start(iface: string, filter: readonly string[], signal?: AbortSignal): Promise<TcpdumpCapture> {
    // --immediate-mode: each packet reaches tcpdump as it comes, not when a block of the kernel's
    // ring fills or times out — so a failure is reported at once, and the packets of the last
    // moments are not left in the ring when Ctrl-C stops the capture.
    const args = ['-U', '--immediate-mode', '-n', '-B', String(KERNEL_BUFFER_KIB), '-i', iface, '-w', '-', '--', ...filter];
    const child = spawn('tcpdump', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const capture = new TcpdumpCapture(child, iface, filter.join(' '));
    // One outcome: listening, or the reason it is not (not installed, its own error, too slow).
    await new Promise<void>((resolve, reject) => {
      const settle = (error: TsleuthError | null): void => {
        clearTimeout(timer);
        child.stderr!.off('data', watch);
        signal?.removeEventListener('abort', abandon);
        if (error === null) resolve();
        else reject(error);
      };
      const abandon = (): void => {
        capture.kill();
        settle(new TsleuthError('TSL_ERR_ENV', `the capture on ${iface} was stopped before tcpdump started`));
      };
      if (signal?.aborted === true) {
        queueMicrotask(abandon);
      } else {
        signal?.addEventListener('abort', abandon, { once: true });
      }
      const timer = setTimeout(() => {
        capture.stop();
        settle(new TsleuthError('TSL_ERR_ENV', `tcpdump did not start listening on ${iface} within ${START_TIMEOUT_MS / 1000} s`));
      }, START_TIMEOUT_MS);
      const watch = (): void => {
        if (/^tcpdump: listening on /m.test(capture.stderr)) settle(null);
      };
      child.stderr!.on('data', watch);
      child.once('error', (e: NodeJS.ErrnoException) => {
        settle(
          e.code === 'ENOENT'
            ? new TsleuthError('TSL_ERR_ENV', 'tcpdump is not installed (Debian package "tcpdump"; scripts/setup.sh installs it)')
            : new TsleuthError('TSL_ERR_ENV', `cannot start tcpdump: ${e.message}`),
        );
      });
      void capture.exited.then(async (code) => {
        await capture.stderrDone;
        settle(capture.startError(code));
      });
    });
    return capture;
  }

  /** Ends tcpdump at once, without its counts (a start that was abandoned). */
  private kill(): void {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGTERM');
  }

  /** Ends the capture the way Ctrl-C ends tcpdump: it writes what it has, prints its counts and exits. */
  stop(): void {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGINT');
  }

  /** tcpdump's counts once it has exited (null if it printed none: it was killed, or failed). */
  async stats(): Promise<TcpdumpStats | null> {
    await this.exited;
    await this.stderrDone;
    const count = (what: string): number | null => {
      const m = new RegExp(`^(\\d+) packets? ${what}$`, 'm').exec(this.stderr);
      return m === null ? null : Number(m[1]);
    };
    const captured = count('captured');
    const receivedByFilter = count('received by filter');
    const droppedByKernel = count('dropped by kernel');
    if (captured === null || receivedByFilter === null || droppedByKernel === null) return null;
    return { captured, receivedByFilter, droppedByKernel };
  }

  /** Why tcpdump exited before it listened, in its own words ("tcpdump: eth9: No such device exists"). */
  private startError(code: number | null): TsleuthError {
    const said = this.stderr
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l.startsWith('tcpdump: '))
      .map((l) => l.slice('tcpdump: '.length));
    const reason = said.length > 0 ? said.join('; ') : `it exited with status ${code}`;
    const privilege = /permission|not permitted/i.test(reason);
    return new TsleuthError(privilege ? 'TSL_ERR_PRIVILEGE' : 'TSL_ERR_ENV', `tcpdump cannot capture on ${this.iface}: ${reason}`);
  }
}
