/**
 * tcpsleuth as a library: everything the CLI does is one of these typed calls.
 *
 *   import { analyze } from 'tcpsleuth';
 *   for await (const r of analyze('capture.pcapng')) if (r.type === 'connection') console.log(r.conn_state);
 */
export { analyze, analyzeInBatches, FOLLOW_IDLE_MS, type AnalyzeInput, type AnalyzeOptions, type AnalyzeProgress } from './analyze/analyze.js';
export { TcpdumpCapture, type TcpdumpStats } from './capture/tcpdump.js';
export type { AnalysisRecord, ConnectionRecord, DirectionStats, EndpointAddress, Finding, SummaryRecord } from './analyze/records.js';
export type { ConnectionFilter } from './analyze/filter.js';
export type { PacketRow } from './analyze/packet-trace.js';
export { CaptureReader, type CaptureInput } from './capture/reader.js';
export type { CaptureInfo, Frame, FrameSink } from './capture/frame.js';
export { Dissector, Verdict } from './dissect/dissector.js';
export { PacketView, formatAddress, parseAddress } from './dissect/packet.js';
export { parseTcpOptions, type TcpOptions } from './dissect/tcp.js';
export { TcpTracker, DEFAULT_LIKELY_SERVER_PORTS, type TrackerOptions, type EndReason } from './tcp/tracker.js';
export { connState, CONN_STATE_MEANING, type ConnState } from './tcp/conn-state.js';
export { TsleuthError, type ErrorCode, type ErrorContext } from './errors.js';
export * as kernel from './kernel/index.js';
export { NetNamespace, connectVeth, removeLeftovers } from './lab/netns.js';
export { ChatServer, CHAT_DEFAULTS, type ChatServerOptions } from './chat/server.js';
export { ChatClient, type ChatClientOptions } from './chat/client.js';
export { ChatWorkload } from './chat/workload.js';
