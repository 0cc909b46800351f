/**
 * Encodes one script segment as an Ethernet II / IPv4 / TCP frame with valid IP and TCP checksums.
 *
 * The capture point is the client's gateway link: client frames carry the client's MAC and go to
 * the gateway's, server frames come from the gateway. Client packets still have TTL 64 there;
 * server packets have lost a few hops.
 */
import { addWords, finish } from './checksum.js';
import type { Flow, OptionSet, Segment } from './conversation.js';

export const LINKTYPE_ETHERNET = 1;

const ETH_LEN = 14;
const IP_LEN = 20;
const TCP_LEN = 20;
const CLIENT_TTL = 64;
/** Linux's defaults: MSS 1460 on Ethernet, window scale 7. */
const MSS = 1460;
const WINDOW_SCALE = 7;
/** A locally administered MAC for the gateway. */
const GATEWAY_MAC = Buffer.from([0x02, 0x00, 0x5e, 0x00, 0x00, 0x01]);

function optionsLength(options: OptionSet): number {
  // SYN: MSS(4) SACK-permitted(2) timestamps(10) NOP(1) window scale(3), in Linux's order.
  // Others: NOP NOP timestamps, aligned to 4 bytes as Linux sends them.
  return options === 'syn' ? 20 : options === 'timestamps' ? 12 : 0;
}

export function frameLength(seg: Segment): number {
  return ETH_LEN + IP_LEN + TCP_LEN + optionsLength(seg.options) + seg.payloadLen;
}

/** Writes the frame at buf[off, off + frameLength(seg)). */
export function writeFrame(buf: Buffer, off: number, flow: Flow, seg: Segment, payloadPool: Buffer): void {
  const srcIp = seg.fromClient ? flow.clientIp : flow.serverIp;
  const dstIp = seg.fromClient ? flow.serverIp : flow.clientIp;
  const optLen = optionsLength(seg.options);
  const tcpLen = TCP_LEN + optLen + seg.payloadLen;

  // Ethernet: the client's MAC is 02:00 followed by its IPv4 address.
  if (seg.fromClient) {
    GATEWAY_MAC.copy(buf, off);
    writeHostMac(buf, off + 6, flow.clientIp);
  } else {
    writeHostMac(buf, off, flow.clientIp);
    GATEWAY_MAC.copy(buf, off + 6);
  }
  buf.writeUInt16BE(0x0800, off + 12);

  const ip = off + ETH_LEN;
  buf[ip] = 0x45;
  buf[ip + 1] = 0;
  buf.writeUInt16BE(IP_LEN + tcpLen, ip + 2);
  buf.writeUInt16BE(seg.ipId, ip + 4);
  buf.writeUInt16BE(0x4000, ip + 6); // DF, as Linux sets on TCP
  buf[ip + 8] = seg.fromClient ? CLIENT_TTL : flow.serverTtl;
  buf[ip + 9] = 6;
  buf.writeUInt16BE(0, ip + 10);
  buf.writeUInt32BE(srcIp, ip + 12);
  buf.writeUInt32BE(dstIp, ip + 16);
  buf.writeUInt16BE(finish(addWords(buf, ip, ip + IP_LEN, 0)), ip + 10);

  const tcp = ip + IP_LEN;
  buf.writeUInt16BE(seg.fromClient ? flow.clientPort : flow.serverPort, tcp);
  buf.writeUInt16BE(seg.fromClient ? flow.serverPort : flow.clientPort, tcp + 2);
  buf.writeUInt32BE(seg.seq, tcp + 4);
  buf.writeUInt32BE(seg.ack, tcp + 8);
  buf[tcp + 12] = ((TCP_LEN + optLen) / 4) << 4;
  buf[tcp + 13] = seg.flags;
  buf.writeUInt16BE(seg.window, tcp + 14);
  buf.writeUInt16BE(0, tcp + 16);
  buf.writeUInt16BE(0, tcp + 18);
  writeOptions(buf, tcp + TCP_LEN, seg);
  const data = tcp + TCP_LEN + optLen;
  payloadPool.copy(buf, data, seg.payloadAt, seg.payloadAt + seg.payloadLen);

  // Pseudo-header: addresses, protocol, TCP length.
  let sum = (srcIp >>> 16) + (srcIp & 0xffff) + (dstIp >>> 16) + (dstIp & 0xffff) + 6 + tcpLen;
  sum = addWords(buf, tcp, tcp + tcpLen, sum);
  buf.writeUInt16BE(finish(sum), tcp + 16);
}

function writeHostMac(buf: Buffer, at: number, ip: number): void {
  buf[at] = 0x02;
  buf[at + 1] = 0x00;
  buf.writeUInt32BE(ip, at + 2);
}

function writeOptions(buf: Buffer, at: number, seg: Segment): void {
  if (seg.options === 'none') return;
  let p = at;
  if (seg.options === 'syn') {
    buf[p++] = 2; // MSS
    buf[p++] = 4;
    buf.writeUInt16BE(MSS, p);
    p += 2;
    buf[p++] = 4; // SACK permitted
    buf[p++] = 2;
  } else {
    buf[p++] = 1; // NOP
    buf[p++] = 1;
  }
  buf[p++] = 8; // timestamps
  buf[p++] = 10;
  buf.writeUInt32BE(seg.tsVal, p);
  buf.writeUInt32BE(seg.tsEcr, p + 4);
  p += 8;
  if (seg.options === 'syn') {
    buf[p++] = 1; // NOP
    buf[p++] = 3; // window scale
    buf[p++] = 3;
    buf[p] = WINDOW_SCALE;
  }
}
