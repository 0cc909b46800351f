/**
 * The wire view for the timeline: every TCP segment of a lab capture, read with tcpsleuth's own
 * capture reader and dissectors (the same code `analyze` runs).
 */
import { CaptureReader } from '../capture/reader.js';
import type { Frame } from '../capture/frame.js';
import { Dissector, Verdict } from '../dissect/dissector.js';
import { formatAddress } from '../dissect/packet.js';
import { flagString } from '../dissect/tcp.js';
import type { Endpoint } from './outcome.js';

export interface WirePacket {
  /** 1-based frame number, as analyze and Wireshark count. */
  frame: number;
  ts: number;
  src: Endpoint;
  dst: Endpoint;
  /** tcpdump-style flags: S, F, R, P, . (ACK). */
  flags: string;
  seq: number;
  ack: number;
  len: number;
  window: number;
}

export async function readWire(path: string): Promise<WirePacket[]> {
  const out: WirePacket[] = [];
  const d = new Dissector();
  const v = d.view;
  const reader = new CaptureReader(path, (f: Frame) => {
    if (d.dissect(f) !== Verdict.Tcp) return;
    out.push({
      frame: v.frame,
      ts: v.ts,
      src: { addr: formatAddress(v.src0, v.src1, v.src2, v.src3), port: v.srcPort },
      dst: { addr: formatAddress(v.dst0, v.dst1, v.dst2, v.dst3), port: v.dstPort },
      flags: flagString(v.flags),
      seq: v.seq >>> 0,
      ack: v.ack >>> 0,
      len: v.payloadLen,
      window: v.window,
    });
  });
  for await (const _ of reader.read()) {
    // frames arrive through the sink
  }
  return out;
}
