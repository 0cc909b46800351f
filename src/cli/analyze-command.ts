/**
 * `tcpsleuth analyze`: flags → analyze() → a reporter. Nothing here knows about packets.
 */
import { constants as osConstants } from 'node:os';
import { parseArgs } from 'node:util';
import { analyzeInBatches, type AnalyzeOptions } from '../analyze/analyze.js';
import type { PacketRow } from '../analyze/packet-trace.js';
import type { ConnectionRecord, SummaryRecord } from '../analyze/records.js';
import { TcpdumpCapture } from '../capture/tcpdump.js';
import { TsleuthError } from '../errors.js';
import { ReportDigest } from '../report/digest.js';
import { writeConnectionJson } from '../report/json.js';
import { JsonEncoder } from '../report/json-encoder.js';
import { ProgressLine } from '../report/progress.js';
import { counted, escapeForTerminal, jsonLine } from '../report/terminal.js';
import { FAILURE_KINDS, FINDING_KINDS, topicNames } from '../diagnose/knowledge.js';
import { FailureFeed } from '../report/failure-feed.js';
import { renderConnectionTable, renderFindings, renderPacketTrace, renderSummary } from '../report/text.js';
import { CONN_STATE_MEANING, type ConnState } from '../tcp/conn-state.js';
import { DEFAULT_LIKELY_SERVER_PORTS } from '../tcp/tracker.js';
import { EXIT } from './exit-codes.js';
import { parsePort, parseWholeInRange, usageError } from './flags.js';
import { LineWriter } from './output.js';

export const ANALYZE_USAGE = `usage: tcpsleuth analyze [options] <capture ... | ->
       tcpsleuth analyze [options] --interface IFACE [capture filter]

Reads a pcap or pcapng capture (optionally gzip-compressed; "-" reads standard input; several
files are read as one capture, in the order of their first packets: a rotated capture) and
reports every TCP connection with Zeek's conn_state and history, and explains each failure:
who reset or abandoned it, in which TCP state, why (the kernel's reason), what each
application saw (errno) and what to do ("tcpsleuth explain TOPIC" for the background).

options:
  --json                 JSON Lines: one object per connection, then a summary (docs/json-schema.md)
  --host ADDR[/PREFIX]   only connections with this address, or an address in this network
                         (10.0.0.0/8, fd00::/8), at either end (repeatable)
  --port N               only connections with this port at either end (repeatable)
  --connection ID        show one connection packet by packet, then its findings
  --limit N              rows in the text table (default 40, 0 = all)
  --verify-checksums     drop segments with a bad IPv4 or TCP checksum (off by default: captures
                         taken on the sending host carry checksums the NIC fills in later)
  --server-ports LIST    ports that mark the responder when the first packet is not a SYN
                         (comma-separated; default: Zeek's well-known analyzer ports)
  --fail-on LIST         exit 1 if any connection matches one of these (comma-separated):
                         conn_states, "failed" (REJ,RSTO,RSTR,RSTOS0,RSTRH,S0,SH,SHR), finding
                         kinds (refused, reset, half-close-stall, ...), kernel reasons
                         (TCP_ABORT_ON_CLOSE, ...), "failures" (any finding of a failure kind,
                         not the observations such as retransmissions), or "findings" (any)
  --no-diagnose          skip the diagnosis (no findings; the connection table only)
  -i, --interface IFACE  capture live with tcpdump on IFACE ("any": all), through an optional
                         capture filter (tcpdump's expression: port 443, host 10.0.0.5, ...); implies
                         --follow; Ctrl-C ends the capture and prints the report with tcpdump's own
                         count of the packets the kernel dropped (needs root or CAP_NET_RAW)
  --follow               the input is a live capture (tcpdump -U -w - | tcpsleuth analyze --follow -):
                         print each failure as soon as its connection ends (3 of a kind per 10 s,
                         the rest counted; with --json: each record), and when the link is quiet
                         for a second keep Zeek's timers running with the wall clock, so
                         connections still end without new packets
  --no-progress          never draw the progress line (it only appears when stderr is a terminal)

Ctrl-C stops reading and reports what was read (a second Ctrl-C quits at once); with
--interface it is the capture's normal end.

exit status: 0 ok, 1 --fail-on matched, 2 usage error, unreadable input or unwritable output,
             3 the capture is damaged part-way (everything before the fault is reported; of
             several files: some could not be read whole, each is named, the rest is reported),
             130 stopped by Ctrl-C (after reporting what was read; not with --interface),
             129/131/143 an --interface capture ended by SIGHUP/SIGQUIT/SIGTERM (after reporting)`;

/** JSON Lines are handed to stdout in chunks of about this many bytes. */
const JSON_CHUNK = 1 << 20;

const FAILED: ConnState[] = ['REJ', 'RSTO', 'RSTR', 'RSTOS0', 'RSTRH', 'S0', 'SH', 'SHR'];

interface FailOn {
  states: Set<ConnState>;
  /** Finding kinds, or kernel reasons (NO_SOCKET, TCP_ABORT_ON_CLOSE, ...). */
  findings: Set<string>;
  anyFinding: boolean;
}

function parseFailOn(list: string): FailOn {
  const out: FailOn = { states: new Set(), findings: new Set(), anyFinding: false };
  for (const item of list.split(',').map((s) => s.trim()).filter((s) => s !== '')) {
    if (item === 'failed') FAILED.forEach((s) => out.states.add(s));
    else if (item === 'findings') out.anyFinding = true;
    else if (item === 'failures') FAILURE_KINDS.forEach((k) => out.findings.add(k));
    else if (FINDING_KINDS.includes(item.toLowerCase())) out.findings.add(item.toLowerCase());
    else if (item.toUpperCase() in CONN_STATE_MEANING) out.states.add(item.toUpperCase() as ConnState);
    else if (topicNames().reason.includes(item.toUpperCase())) out.findings.add(item.toUpperCase());
    else {
      throw usageError(
        `--fail-on: ${JSON.stringify(item)} is not a conn_state (${Object.keys(CONN_STATE_MEANING).join(', ')}), a finding kind (${FINDING_KINDS.join(', ')}), a kernel reason, "failed", "failures" nor "findings"`,
      );
    }
  }
  if (out.states.size === 0 && out.findings.size === 0 && !out.anyFinding) throw usageError('--fail-on needs at least one conn_state, finding kind, kernel reason, "failed", "failures" or "findings"');
  return out;
}

function failsOn(f: FailOn, r: ConnectionRecord): boolean {
  if (f.states.has(r.conn_state)) return true;
  if (r.findings.length === 0) return false;
  if (f.anyFinding) return true;
  return r.findings.some((x) => f.findings.has(x.kind) || f.findings.has(x.reason));
}

export async function runAnalyze(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      json: { type: 'boolean', default: false },
      host: { type: 'string', multiple: true },
      port: { type: 'string', multiple: true },
      connection: { type: 'string' },
      limit: { type: 'string' },
      'verify-checksums': { type: 'boolean', default: false },
      'server-ports': { type: 'string' },
      'fail-on': { type: 'string' },
      'no-progress': { type: 'boolean', default: false },
      'no-diagnose': { type: 'boolean', default: false },
      follow: { type: 'boolean', default: false },
      interface: { type: 'string', short: 'i' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(`${ANALYZE_USAGE}\n`);
    return EXIT.OK;
  }
  const live = values.interface;
  if (live === undefined && positionals.length === 0) throw usageError('analyze needs a capture file (or "-" for standard input, or --interface)');
  if (live === undefined && positionals.length > 1 && positionals.includes('-')) throw usageError('"-" (standard input) cannot be read together with files');
  if (values.follow && live === undefined && positionals.length > 1) throw usageError('--follow is for one live input (a pipe or "-"); several files are read as they are');
  if (live === '') throw usageError('--interface needs an interface name ("any" for all)');
  if (live === undefined && positionals[0] === '-' && process.stdin.isTTY === true) {
    // A capture is binary: a terminal on standard input means the pipe was forgotten, not that one will be typed.
    throw usageError('standard input is a terminal, not a capture: pipe one in (tcpdump -U -w - | tcpsleuth analyze --follow -) or capture with --interface');
  }
  const limit = parseWholeInRange(values.limit, '--limit', 0) ?? 40;
  const connectionId = parseWholeInRange(values.connection, '--connection', 1);
  const failOn = values['fail-on'] === undefined ? null : parseFailOn(values['fail-on']);
  if (failOn !== null && values['no-diagnose'] && (failOn.anyFinding || failOn.findings.size > 0)) {
    throw usageError('--fail-on with finding kinds, kernel reasons, "failures" or "findings" needs the diagnosis: drop --no-diagnose');
  }
  const serverPorts =
    values['server-ports'] === undefined
      ? DEFAULT_LIKELY_SERVER_PORTS
      : new Set(values['server-ports'].split(',').filter((s) => s.trim() !== '').map((s) => parsePort(s.trim(), '--server-ports')));

  // tcpdump must not outlive a live capture ended by `kill`, `timeout` or a closed terminal (it
  // would keep capturing until its next write met a closed pipe): stop it (or stop it starting),
  // report what was captured, then exit with 128 + the signal's number, as trace and lab do.
  let endedBy: NodeJS.Signals | null = null;
  let capture: TcpdumpCapture | null = null;
  const starting = new AbortController();
  if (live !== undefined) {
    for (const sig of ['SIGTERM', 'SIGHUP', 'SIGQUIT'] as const) {
      process.once(sig, () => {
        endedBy ??= sig;
        if (capture !== null) capture.stop();
        else starting.abort();
      });
    }
  }
  // A live capture starts once every flag is known to be good: tcpdump's own errors come next.
  try {
    capture = live === undefined ? null : await TcpdumpCapture.start(live, positionals, starting.signal);
  } catch (e) {
    if (endedBy !== null) return 128 + osConstants.signals[endedBy as NodeJS.Signals];
    throw e;
  }
  const input = capture !== null ? capture.stream : positionals.length === 1 ? positionals[0]! : positionals;
  if (capture !== null) {
    process.stderr.write(`tcpsleuth: capturing on ${capture.iface}${capture.filter ? ` (${capture.filter})` : ''} with tcpdump; Ctrl-C ends it and prints the report\n`);
  }
  const progress = !values['no-progress'] && ProgressLine.enabled() ? new ProgressLine() : null;
  let traced: { rows: PacketRow[]; record: ConnectionRecord } | null = null;
  // The first Ctrl-C ends the read and lets the report print; the default handler returns for a
  // second one. A live capture ends as tcpdump does on Ctrl-C: it writes what it has and exits,
  // and the read ends with the stream.
  const interrupt = new AbortController();
  process.once('SIGINT', () => (capture !== null ? capture.stop() : interrupt.abort()));
  // Failures print as they happen, except for one connection's view, which shows its own at the end.
  const followed = (values.follow || capture !== null) && !values.json && !values['no-diagnose'] && connectionId === undefined;
  const feed = followed ? new FailureFeed() : null;
  // The capture's clock as of the batch being reported (what the feed's windows run on).
  let captureNow = 0;
  const out = new LineWriter();
  const options: AnalyzeOptions = {
    name: capture === null ? undefined : `tcpdump -i ${capture.iface}`,
    signal: interrupt.signal,
    hosts: values.host,
    ports: values.port?.map((p) => parsePort(p, '--port')),
    connectionId,
    verifyChecksums: values['verify-checksums'],
    diagnose: !values['no-diagnose'],
    follow: values.follow || capture !== null,
    likelyServerPorts: serverPorts,
    onProgress: (p) => {
      if (p.captureTime !== null) captureNow = p.captureTime;
      progress?.update(p);
      // A burst's count, once its window is over: also while a followed link is quiet.
      const held = feed?.expired(p.captureTime) ?? null;
      if (held !== null) {
        progress?.clear();
        out.push(`${held}\n`);
      }
    },
    onPacketTrace: (rows, record) => {
      traced = { rows, record };
    },
  };

  // Room for a chunk and the record that completes it, so the buffer rarely has to grow.
  const json = new JsonEncoder(JSON_CHUNK + (64 << 10));
  // A chunk's buffer goes back to the encoder once written: two buffers in turn, not one per chunk.
  const recycleJson = (chunk: Buffer): void => json.recycle(chunk);
  // The text report keeps only what it will show (and counts the rest): memory stays bounded.
  const digest = new ReportDigest(limit, limit === 0 ? 0 : Math.max(3, Math.ceil(limit / 4)));
  let summary: SummaryRecord | null = null;
  let failed = false;
  let fatal: TsleuthError | null = null;
  try {
    for await (const batch of analyzeInBatches(input, options)) {
      for (const r of batch) {
        if (r.type === 'summary') {
          summary = r;
        } else {
          if (failOn !== null && failsOn(failOn, r)) failed = true;
          if (values.json) {
            writeConnectionJson(json, r);
            json.newline();
            // The encoder's bytes go to stdout as they are, a chunk at a time.
            if (json.pos >= JSON_CHUNK) out.pushChunk(json.take(), recycleJson);
          } else {
            digest.add(r);
            const failure = feed?.add(r, captureNow) ?? null;
            if (failure !== null) {
              progress?.clear();
              out.push(`${failure}\n`);
            }
          }
        }
      }
      // What this chunk of the capture completed goes out now: a live capture's records as its
      // connections end, not once a megabyte of them has piled up.
      if (json.pos > 0) out.pushChunk(json.take(), recycleJson);
      if (followed) await out.flush();
      else await out.flushIfFull();
    }
  } catch (e) {
    if (!(e instanceof TsleuthError)) throw e;
    fatal = e;
  } finally {
    progress?.clear();
  }
  if (summary === null) throw fatal ?? new Error('analysis ended without a summary');
  const heldBack = feed?.finish() ?? null;
  if (heldBack !== null) out.push(`${heldBack}\n`);
  if (capture !== null) {
    capture.stop();
    const stats = await capture.stats();
    summary.live = {
      interface: capture.iface,
      filter: capture.filter,
      captured: stats?.captured ?? null,
      received_by_filter: stats?.receivedByFilter ?? null,
      dropped_by_kernel: stats?.droppedByKernel ?? null,
    };
  }
  // Unreadable input (nothing read, or nothing that could be analysed): the one-sentence error
  // says everything, no empty report. Damage part-way still reports what came before it.
  const damagedPartWay = fatal !== null && summary.frames > 0 && (fatal.code === 'TSL_ERR_TRUNCATED' || fatal.code === 'TSL_ERR_CORRUPT');
  if (fatal !== null && !damagedPartWay) {
    // Of several files none could be read: each says why (the last line is the fatal one's).
    for (const f of summary.files ?? []) {
      if (f.error !== null && f.error.message !== fatal.describe()) process.stderr.write(`tcpsleuth: ${escapeForTerminal(f.error.message)}\n`);
    }
    throw fatal;
  }
  if (values.json) {
    out.pushChunk(json.take(), recycleJson);
    await out.line(jsonLine(summary));
  } else if (connectionId !== undefined) {
    const t = traced as { rows: PacketRow[]; record: ConnectionRecord } | null;
    if (t === null) {
      const ids = summary.connections === 0 ? 'it has no TCP connection' : summary.connections === 1 ? 'its only id is 1' : `ids run from 1 to ${summary.connections}`;
      throw usageError(`no connection with id ${connectionId} in ${summary.file} (${ids})`);
    }
    await out.line(renderPacketTrace(t.rows, t.record));
  } else {
    if (digest.total > 0) {
      // Followed, every failure was printed as it ended: the report gives the tallies, not the examples again.
      if (!values['no-diagnose']) await out.line(`${renderFindings(digest, !followed)}\n`);
      await out.line(`${renderConnectionTable(digest)}\n`);
    } else if (summary.connections > 0) {
      const filters = [...(values.host ?? []).map((h) => `--host ${h}`), ...(values.port ?? []).map((p) => `--port ${p}`)].join(' ');
      await out.line(`no connection matches ${escapeForTerminal(filters)} (of ${counted(summary.connections, 'connection')} in the capture)\n`);
    }
    await out.line(renderSummary(summary));
  }
  await out.flush();
  if (fatal !== null) {
    process.stderr.write(`tcpsleuth: ${fatal.describe()}\n`);
    return EXIT.DAMAGED;
  }
  // Of several files, those that could not be read whole: the others were reported.
  const damagedFiles = summary.files?.filter((f) => f.error !== null) ?? [];
  for (const f of damagedFiles) process.stderr.write(`tcpsleuth: ${escapeForTerminal(f.error!.message)}\n`);
  // A signal outranks damage: a shell loop stopped with Ctrl-C must see that it was.
  if (endedBy !== null) return 128 + osConstants.signals[endedBy as NodeJS.Signals];
  if (summary.interrupted) {
    process.stderr.write(`tcpsleuth: interrupted after ${summary.frames} frames; the report covers what was read\n`);
    return EXIT.INTERRUPTED;
  }
  if (damagedFiles.length > 0) return EXIT.DAMAGED;
  return failed ? EXIT.FINDINGS : EXIT.OK;
}
