/**
 * A live tcpdump inside a test's network namespace, writing what crosses one interface to a file.
 *
 * Three points make the file complete and exact, without sleeping:
 *  - start() returns only after tcpdump printed "listening on ...": from then on the kernel hands
 *    every packet to it, so traffic may begin.
 *  - tcpdump runs with --print (and -l) next to -w, and with -U each packet is flushed to the file
 *    before it is printed. Seeing a packet's line on stdout therefore proves that packet and all
 *    before it are in the file; waitForUdpTo() uses a final marker datagram as that fence.
 *  - --immediate-mode hands packets over as they arrive instead of when a TPACKET_V3 block fills
 *    or times out, so nothing waits in the kernel ring when stop() sends SIGINT.
 */
import type { ChildProcess } from 'node:child_process';
import { LineWatcher } from './line-watcher.js';
import type { NetNamespace } from '../../src/lab/netns.js';
import { withTimeout } from './timeout.js';

/** An interface of the namespace: `lo` gives Ethernet framing (DLT_EN10MB), `any` Linux cooked capture framing. */
export type CaptureInterface = string;

/** tcpdump's own account, printed when it exits. */
export interface CaptureStats {
  captured: number;
  receivedByFilter: number;
  droppedByKernel: number;
}

const LISTENING_TIMEOUT_MS = 5_000;
const STOP_TIMEOUT_MS = 5_000;

export class LiveCapture {
  private stopped: Promise<CaptureStats> | undefined;

  private constructor(
    readonly iface: CaptureInterface,
    readonly file: string,
    /** tcpdump's name for the file's link type, e.g. "EN10MB" or "LINUX_SLL2". */
    readonly linkTypeName: string,
    private readonly child: ChildProcess,
    private readonly stdout: LineWatcher,
    private readonly stderr: LineWatcher,
  ) {}

  /** Starts tcpdump on `iface` inside `ns`; resolves once it is listening. */
  static async start(ns: NetNamespace, iface: CaptureInterface, file: string): Promise<LiveCapture> {
    const child = ns.spawn('tcpdump', [
      '-U',
      '-n',
      '-l',
      '--immediate-mode',
      '--print',
      // Immediate mode uses a ring of fixed-size slots, each as large as the snaplen (256 KiB).
      // For `any` libpcap cannot shrink that to an MTU, so the default 2 MiB buffer holds only
      // about 8 packets and a burst of a few connections overflows it ("dropped by kernel").
      // 32 MiB gives room for some 128, far more than any scenario sends at once.
      '-B',
      '32768',
      '-i',
      iface,
      '-w',
      file,
    ], { stdio: ['pipe', 'pipe', 'pipe'] });
    if (child.stdout === null || child.stderr === null) throw new Error('tcpdump was spawned without stdout/stderr pipes');
    const stdout = new LineWatcher(child.stdout, `tcpdump -i ${iface} (stdout)`);
    const stderr = new LineWatcher(child.stderr, `tcpdump -i ${iface} (stderr)`);
    // "tcpdump: listening on lo, link-type EN10MB (Ethernet), snapshot length 262144 bytes"
    const listening = await stderr.waitFor(
      (line) => line.startsWith('tcpdump: listening on '),
      LISTENING_TIMEOUT_MS,
      'a "listening on" line',
    );
    const linkTypeName = /link-type (\S+)/.exec(listening)?.[1];
    if (linkTypeName === undefined) throw new Error(`cannot read the link type from: ${listening}`);
    return new LiveCapture(iface, file, linkTypeName, child, stdout, stderr);
  }

  /**
   * Resolves once tcpdump has printed a UDP datagram sent to addr:port, i.e. once that datagram
   * and every packet captured before it are in the file.
   */
  async waitForUdpTo(addr: string, port: number, timeoutMs: number): Promise<void> {
    const needle = ` > ${addr}.${port}: UDP`;
    await this.stdout.waitFor((line) => line.includes(needle), timeoutMs, `a printed UDP datagram to ${addr}.${port}`);
  }

  /** Sends SIGINT, waits for tcpdump to finish the file and exit, and returns its statistics. */
  stop(): Promise<CaptureStats> {
    this.stopped ??= this.stopOnce();
    return this.stopped;
  }

  private async stopOnce(): Promise<CaptureStats> {
    const exited = new Promise<number | null>((resolve) => {
      if (this.child.exitCode !== null) resolve(this.child.exitCode);
      else this.child.once('exit', (code) => resolve(code));
    });
    this.child.kill('SIGINT');
    const code = await withTimeout(exited, STOP_TIMEOUT_MS, `tcpdump -i ${this.iface} did not exit after SIGINT`);
    // The stats are the last lines on stderr; 'exit' can fire before the pipe is drained.
    await this.stderr.waitFor((line) => / packets? dropped by kernel$/.test(line), STOP_TIMEOUT_MS, 'its statistics');
    if (code !== 0) throw new Error(`tcpdump -i ${this.iface} exited with ${code}:\n${this.stderr.text}`);
    return {
      captured: this.statistic('captured'),
      receivedByFilter: this.statistic('received by filter'),
      droppedByKernel: this.statistic('dropped by kernel'),
    };
  }

  private statistic(what: string): number {
    const match = new RegExp(`^(\\d+) packets? ${what}$`, 'm').exec(this.stderr.text);
    if (match?.[1] === undefined) throw new Error(`tcpdump printed no "${what}" count:\n${this.stderr.text}`);
    return Number.parseInt(match[1], 10);
  }
}
