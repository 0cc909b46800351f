/**
 * The library's main entry: a capture in, an async stream of connection records out, then one
 * summary record. Frames are read in chunks, dissected into one reused PacketView, tracked, and
 * connections are yielded as soon as Zeek's timers end them, so memory follows the number of
 * live connections, not the size of the capture.
 *
 * A fatal fault in the capture (cut-off file, corrupt record) does not lose what came before:
 * every connection seen so far is yielded, the summary carries the error, and then the typed
 * TsleuthError is thrown.
 */
import { CaptureReader, type CaptureInput } from '../capture/reader.js';
import type { CaptureInfo, Frame } from '../capture/frame.js';
import { Dissector, UNKNOWN_LINK_TYPE, Verdict } from '../dissect/dissector.js';
import { LINK_DISSECTORS, LINK_TYPE_NAMES } from '../dissect/link.js';
import { TsleuthError } from '../errors.js';
import { endpointHash } from '../diagnose/context.js';
import { diagnoseConnection, DiagnosisMemory } from '../diagnose/registry.js';
import { TH_ACK, TH_SYN } from '../dissect/packet.js';
import { connState } from '../tcp/conn-state.js';
import type { Connection } from '../tcp/connection.js';
import { TcpTracker, type EndReason } from '../tcp/tracker.js';
import { compileFilter, type ConnectionFilter } from './filter.js';
import { inCaptureOrder } from './capture-order.js';
import { IDLE, withIdleTicks } from './idle-ticks.js';
import { PacketTrace, type PacketRow } from './packet-trace.js';
import { type AnalysisRecord, type ConnectionRecord, SCHEMA_VERSION, type SummaryRecord, toConnectionRecord } from './records.js';

export interface AnalyzeProgress {
  sourceBytes: number;
  sourceSize: number | undefined;
  frames: number;
  /** The capture's clock: the latest frame's time, or where a followed capture's quiet moments moved it (null before any frame). */
  captureTime: number | null;
}

export interface AnalyzeOptions extends ConnectionFilter {
  /** Name used in messages (defaults to the path). */
  name?: string;
  /** Verify IPv4 header and TCP checksums and drop segments that fail (Zeek without -C). */
  verifyChecksums?: boolean;
  /** Ports that mark the responder when a connection's first packet is not a plain SYN. */
  likelyServerPorts?: ReadonlySet<number>;
  /** Called after every chunk read (and, when following, every quiet second). */
  onProgress?: (p: AnalyzeProgress) => void;
  /**
   * Stops reading when aborted (Ctrl-C), at once, without waiting for a quiet source's next
   * bytes: what was read is analysed and reported as usual, and the summary says `interrupted`.
   */
  signal?: AbortSignal;
  /** Explain failed connections (the `findings` of each record); on unless false. */
  diagnose?: boolean;
  /** With connectionId: receives the packet-by-packet view of that connection when it ends. */
  onPacketTrace?: (rows: PacketRow[], record: ConnectionRecord) => void;
  /**
   * The input is a live capture (`tcpdump -w - | …`): when nothing arrives for FOLLOW_IDLE_MS, the
   * capture's clock moves on by the wall-clock time since the last chunk, so connections whose
   * timers ran out end (and are yielded) on a quiet link too, not only with the next packet.
   * Only for live input: a slow pipe of an old capture would have connections ended early.
   */
  follow?: boolean;
}

/** How long a followed capture may be quiet before its clock moves on with the wall clock. */
export const FOLLOW_IDLE_MS = 1000;

/**
 * What analyze reads: a path ("-": standard input), a byte stream, or several capture files read
 * as one capture — the pieces of a rotated capture, in the order of their first packets.
 */
export type AnalyzeInput = CaptureInput | readonly string[];

/**
 * Connection records and the summary, one at a time. A fatal fault in the capture is thrown
 * after everything before it (and the summary naming the fault) has been yielded. Of several
 * files, one that cannot be read, or is damaged part-way, is noted in the summary's `files` and
 * the next one is read: a fault is fatal only when no file could be read at all.
 */
export async function* analyze(input: AnalyzeInput, options: AnalyzeOptions = {}): AsyncGenerator<AnalysisRecord, void, undefined> {
  for await (const batch of analyzeInBatches(input, options)) yield* batch;
}

function supportedLinkTypes(): string {
  return `supported: ${[...LINK_DISSECTORS.keys()].map((k) => `${k} ${LINK_TYPE_NAMES.get(k)}`).join(', ')}`;
}

/**
 * The same stream in batches (the records each chunk of the capture completed; the last batch
 * ends with the summary), for consumers that want to skip one promise per record. A followed
 * capture also yields a batch, empty if nothing ended, at each quiet second; `onProgress` is
 * called before each batch, with the capture's clock.
 */
export async function* analyzeInBatches(input: AnalyzeInput, options: AnalyzeOptions = {}): AsyncGenerator<AnalysisRecord[], void, undefined> {
  const keep = compileFilter(options);
  const pending: ConnectionRecord[] = [];
  const malformed = new Map<string, number>();
  const connStates = new Map<string, number>();
  let tcpSegments = 0;
  let badChecksums = 0;
  let nonTcp = 0;
  // Capture time of the first and latest frame (frames > 0). Fields of an object, not `let`s the
  // closures share: a double assigned to a closure variable is boxed anew for every frame.
  const clock = { frames: 0, first: 0.5, last: 0.5 };
  const trace = options.connectionId !== undefined && options.onPacketTrace ? new PacketTrace(options.connectionId) : null;

  const memory = options.diagnose === false ? null : new DiagnosisMemory();
  const onConnectionEnd = (c: Connection, reason: EndReason, endTime: number): void => {
    const state = connState(c);
    // How long the capture watched it: to the capture's end, or until Zeek's timers removed it.
    const until = reason === 'end_of_capture' ? Math.max(clock.frames > 0 ? clock.last : endTime, endTime) : endTime;
    const r = toConnectionRecord(c, reason, [], state);
    if (memory !== null) r.findings = diagnoseConnection(c, reason, until, memory, state, { orig: r.orig.addr, resp: r.resp.addr });
    connStates.set(r.conn_state, (connStates.get(r.conn_state) ?? 0) + 1);
    if (trace !== null && c.id === trace.connectionId) options.onPacketTrace!(trace.finish(c), r);
    if (keep(r)) pending.push(r);
  };
  const tracker = new TcpTracker(onConnectionEnd, { likelyServerPorts: options.likelyServerPorts });
  const dissector = new Dissector({ verifyChecksums: options.verifyChecksums ?? false });
  const view = dissector.view;
  let reader: CaptureReader | null = null;
  // Several files: frames are numbered through all of them, as one capture (mergecap -a would).
  let frameBase = 0;
  let filesOverlap = 0;
  // A followed capture's clock after a quiet moment moved it on, and the frames that came in
  // stamped before it: input that was buffered on its way (tcpdump without -U, a pipe through
  // ssh or gzip) arrives late, and its connections may already have been ended by the idle clock.
  let idleClock = -Infinity;
  let lateFrames = 0;

  const onFrame = (f: Frame): void => {
    // A file that starts before the previous one ended: its packets go back in time (the files
    // overlap, so they need merging by time — mergecap — not reading one after the other).
    if (f.number === 1 && frameBase > 0 && f.ts < clock.last) filesOverlap++;
    if (f.ts < idleClock) lateFrames++;
    if (clock.frames++ === 0) clock.first = f.ts;
    clock.last = f.ts;
    const verdict = dissector.dissect(f);
    if (frameBase !== 0) view.frame += frameBase;
    if (verdict === Verdict.Tcp) {
      tcpSegments++;
      if (view.badChecksum) badChecksums++;
      const c = tracker.segment(view);
      if (trace !== null && c !== null && c.id === trace.connectionId) trace.add(view, c, false);
      // A SYN-ACK's sender listens: known from this moment, for the connects that fail at the same
      // time (a full accept queue drops SYNs while the connections it holds are still open).
      if (memory !== null && c !== null && (view.flags & (TH_SYN | TH_ACK)) === (TH_SYN | TH_ACK)) {
        memory.noteListener(endpointHash(view.src0, view.src1, view.src2, view.src3, view.srcPort));
      }
    } else if (verdict === Verdict.IcmpAboutTcp) {
      const c = tracker.icmpError(view);
      if (trace !== null && c !== null && c.id === trace.connectionId) trace.add(view, c, true);
    } else if (verdict === Verdict.Other) {
      nonTcp++;
    } else {
      if (view.malformed === UNKNOWN_LINK_TYPE && reader?.info?.format === 'pcap') {
        // A pcap file has one link type: if we cannot read it, no frame of the file can be analysed.
        throw new TsleuthError('TSL_ERR_LINKTYPE', `link type ${f.linkType} is not supported (${supportedLinkTypes()})`, {
          file: reader.name,
          frame: f.number,
          offset: f.fileOffset,
        });
      }
      malformed.set(view.malformed, (malformed.get(view.malformed) ?? 0) + 1);
    }
  };

  const several = isFileList(input);
  if (several && input.length === 0) throw new TsleuthError('TSL_ERR_USAGE', 'no capture file to read');
  const sources: Array<{ input: CaptureInput; name: string | undefined; size: number | undefined }> = several
    ? (await inCaptureOrder(input, options.signal)).map((f) => ({ input: f.path, name: f.path, size: f.size }))
    : [{ input, name: options.name, size: undefined }];
  const totalSize = several && sources.every((s) => s.size !== undefined) ? sources.reduce((n, s) => n + s.size!, 0) : undefined;
  // What each file was, for the summary (the totals add them up), and what stopped it.
  const read: Array<{ name: string; info: CaptureInfo | null; error: TsleuthError | null }> = [];
  let bytesBefore = 0;
  let interrupted = false;
  // Wall-clock time (ms) when the latest chunk came in: where a followed capture's idle clock starts.
  let chunkWallMs = 0;
  for (const source of sources) {
    reader = new CaptureReader(source.input, onFrame, source.name, options.signal);
    let error: TsleuthError | null = null;
    try {
      const chunks = options.follow === true ? withIdleTicks(reader.read(), FOLLOW_IDLE_MS) : reader.read();
      for await (const step of chunks) {
        if (step !== IDLE) {
          chunkWallMs = Date.now();
        } else if (clock.frames > 0) {
          idleClock = clock.last + (Date.now() - chunkWallMs) / 1000;
          tracker.advanceTo(idleClock);
        }
        const p = reader.progress;
        const captureTime = clock.frames > 0 ? Math.max(clock.last, idleClock) : null;
        options.onProgress?.({ sourceBytes: bytesBefore + p.sourceBytes, sourceSize: totalSize ?? p.sourceSize, frames: clock.frames, captureTime });
        // A quiet moment yields too, even with nothing ended, so a live consumer can act on the time.
        if (pending.length > 0 || step === IDLE) yield pending.splice(0, pending.length);
      }
    } catch (e) {
      if (!(e instanceof TsleuthError)) throw e;
      error = e;
    }
    read.push({ name: reader.name, info: reader.info, error });
    bytesBefore += reader.progress.sourceBytes;
    frameBase += reader.info?.frames ?? 0;
    interrupted ||= reader.interrupted;
    // One file: its fault ends the capture. Several: the next file is read (a ring buffer's
    // newest piece is often cut off, or still empty); the summary's `files` says what happened.
    if (!several && error !== null) break;
    if (interrupted) break;
  }
  const info = totalInfo(read, filesOverlap, lateFrames);
  const failed = read.filter((r) => r.error !== null);
  // Fatal: the one file's fault, or, of several files, a fault when none of them gave a frame.
  let fatal: TsleuthError | null = several ? (info.frames === 0 ? (failed[0]?.error ?? null) : null) : (read[0]?.error ?? null);
  const unreadable = malformed.get(UNKNOWN_LINK_TYPE) ?? 0;
  if (fatal === null && unreadable > 0 && unreadable === info.frames) {
    // A pcapng file whose every frame came from interfaces of link types we cannot read: as
    // unreadable as a pcap file of such a type, not an empty report.
    const types = [...info.linkTypes.keys()].join(', ');
    fatal = new TsleuthError('TSL_ERR_LINKTYPE', `no frame is of a supported link type (this capture has ${types}; ${supportedLinkTypes()})`, { file: read[0]!.name });
  }
  tracker.finish();

  const linkTypes: SummaryRecord['link_types'] = {};
  for (const [lt, n] of info.linkTypes) linkTypes[String(lt)] = { name: LINK_TYPE_NAMES.get(lt) ?? 'unknown', frames: n };
  const summary: SummaryRecord = {
    type: 'summary',
    version: SCHEMA_VERSION,
    file: (read.find((r) => (r.info?.frames ?? 0) > 0) ?? read[0])!.name,
    format: info.format,
    compressed: info.compressed,
    frames: info.frames,
    bytes: info.bytes,
    link_types: linkTypes,
    tcp_segments: tcpSegments,
    bad_checksum_segments: badChecksums,
    connections: tracker.stats.connections,
    conn_states: Object.fromEntries(connStates),
    capture_copies: tracker.stats.captureCopies,
    icmp_errors: { attributed: tracker.stats.icmpErrorsAttributed, unmatched: tracker.stats.icmpErrorsUnmatched },
    non_tcp_frames: nonTcp,
    malformed: Object.fromEntries(malformed),
    snaplen_truncated_frames: info.truncatedFrames,
    capture_faults: Object.fromEntries(info.faults),
    first: clock.frames > 0 ? clock.first : null,
    last: clock.frames > 0 ? clock.last : null,
    peak_live_connections: tracker.stats.peakLiveConnections,
    // Also when the abort came after the last bytes: Ctrl-C on `tcpdump -w - | tcpsleuth analyze -`
    // reaches both, and which of the two ends the read first is chance.
    interrupted: interrupted || options.signal?.aborted === true,
    error: fatal === null ? null : errorRecord(fatal),
  };
  if (several) {
    summary.files = read.map((r) => ({
      file: r.name,
      format: r.info?.format ?? null,
      compressed: r.info?.compressed ?? false,
      frames: r.info?.frames ?? 0,
      bytes: r.info?.bytes ?? 0,
      error: r.error === null ? null : errorRecord(r.error),
    }));
  }
  yield [...pending.splice(0, pending.length), summary];
  if (fatal !== null) throw fatal;
}

function errorRecord(e: TsleuthError): NonNullable<SummaryRecord['error']> {
  return { code: e.code, message: e.describe(), offset: e.context.offset ?? null, frame: e.context.frame ?? null };
}

function isFileList(input: AnalyzeInput): input is readonly string[] {
  return Array.isArray(input);
}

/**
 * The capture as a whole: one file's info as it is; several files' added up (format and
 * compression are those of the first file with frames; the summary's `files` lists each).
 */
function totalInfo(read: ReadonlyArray<{ info: CaptureInfo | null }>, filesOverlap: number, lateFrames: number): {
  format: SummaryRecord['format'];
  compressed: boolean;
  frames: number;
  bytes: number;
  truncatedFrames: number;
  linkTypes: Map<number, number>;
  faults: Map<string, number>;
} {
  const first = (read.find((r) => r.info?.format !== undefined && r.info.frames > 0) ?? read[0])?.info ?? null;
  const total = { format: first?.format ?? null, compressed: first?.compressed ?? false, frames: 0, bytes: 0, truncatedFrames: 0, linkTypes: new Map<number, number>(), faults: new Map<string, number>() };
  for (const { info } of read) {
    if (info === null) continue;
    total.frames += info.frames;
    total.bytes += info.bytes;
    total.truncatedFrames += info.truncatedFrames;
    for (const [k, n] of info.linkTypes) total.linkTypes.set(k, (total.linkTypes.get(k) ?? 0) + n);
    for (const [k, n] of info.faults) total.faults.set(k, (total.faults.get(k) ?? 0) + n);
  }
  if (filesOverlap > 0) total.faults.set('files_overlap', filesOverlap);
  if (lateFrames > 0) total.faults.set('late_after_idle', lateFrames);
  return total;
}
