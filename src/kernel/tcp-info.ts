/**
 * struct tcp_info (include/uapi/linux/tcp.h), as sock_diag sends it in INET_DIAG_INFO.
 *
 * The struct only ever grows at its end; a kernel sends as many bytes as it knows, so every
 * field past the first 104 bytes is optional and decoded only when present.
 *
 *   off size field                      off size field
 *     0  1  tcpi_state                   68  4  tcpi_rtt (us)
 *     1  1  tcpi_ca_state                72  4  tcpi_rttvar (us)
 *     2  1  tcpi_retransmits             76  4  tcpi_snd_ssthresh
 *     3  1  tcpi_probes                  80  4  tcpi_snd_cwnd
 *     4  1  tcpi_backoff                 84  4  tcpi_advmss
 *     5  1  tcpi_options                 88  4  tcpi_reordering
 *     6  1  tcpi_snd_wscale:4,rcv_wscale:4   92  4  tcpi_rcv_rtt (us)
 *     7  1  delivery_rate_app_limited:1, 96  4  tcpi_rcv_space
 *           fastopen_client_fail:2      100  4  tcpi_total_retrans
 *     8  4  tcpi_rto (us)               104  8  tcpi_pacing_rate
 *    12  4  tcpi_ato (us)               112  8  tcpi_max_pacing_rate
 *    16  4  tcpi_snd_mss                120  8  tcpi_bytes_acked
 *    20  4  tcpi_rcv_mss                128  8  tcpi_bytes_received
 *    24  4  tcpi_unacked                136  4  tcpi_segs_out
 *    28  4  tcpi_sacked                 140  4  tcpi_segs_in
 *    32  4  tcpi_lost                   144  4  tcpi_notsent_bytes
 *    36  4  tcpi_retrans                148  4  tcpi_min_rtt (us)
 *    40  4  tcpi_fackets                152  4  tcpi_data_segs_in
 *    44  4  tcpi_last_data_sent (ms)    156  4  tcpi_data_segs_out
 *    48  4  tcpi_last_ack_sent (unused) 160  8  tcpi_delivery_rate
 *    52  4  tcpi_last_data_recv (ms)    168 24  busy/rwnd_limited/sndbuf_limited
 *    56  4  tcpi_last_ack_recv (ms)     192  8  tcpi_delivered, tcpi_delivered_ce
 *    60  4  tcpi_pmtu                   200  8  tcpi_bytes_sent
 *    64  4  tcpi_rcv_ssthresh           208  8  tcpi_bytes_retrans
 *                                       216 12  dsack_dups, reord_seen, rcv_ooopack
 *                                       228  4  tcpi_snd_wnd
 *                                       232  4  tcpi_rcv_wnd (6.x)
 *
 * Host byte order throughout.
 */
import { endianness } from 'node:os';

const LE = endianness() === 'LE';

export interface TcpInfo {
  state: number;
  caState: number;
  /** Consecutive retransmissions of the head segment (the RTO backoff count). */
  retransmits: number;
  probes: number;
  backoff: number;
  options: number;
  sndWscale: number;
  rcvWscale: number;
  rtoUs: number;
  atoUs: number;
  sndMss: number;
  rcvMss: number;
  /** Segments sent and not yet acknowledged. */
  unacked: number;
  sacked: number;
  /** Segments the sender considers lost. */
  lost: number;
  /** Segments retransmitted and not yet acknowledged. */
  retrans: number;
  /** ms since data was last sent / received / an ACK was last received. */
  lastDataSentMs: number;
  lastDataRecvMs: number;
  lastAckRecvMs: number;
  pmtu: number;
  rcvSsthresh: number;
  rttUs: number;
  rttvarUs: number;
  sndSsthresh: number;
  sndCwnd: number;
  advmss: number;
  reordering: number;
  rcvRttUs: number;
  rcvSpace: number;
  /** Retransmissions over the socket's life. */
  totalRetrans: number;
  bytesAcked?: number;
  bytesReceived?: number;
  segsOut?: number;
  segsIn?: number;
  notsentBytes?: number;
  minRttUs?: number;
  bytesSent?: number;
  bytesRetrans?: number;
  sndWnd?: number;
  rcvWnd?: number;
}

/** Decodes struct tcp_info from `buf[offset, offset+length)`; null when shorter than the 104-byte base. */
export function decodeTcpInfo(buf: Buffer, offset: number, length: number): TcpInfo | null {
  if (length < 104) return null;
  const u32 = (o: number): number => (LE ? buf.readUInt32LE(offset + o) : buf.readUInt32BE(offset + o));
  const u64 = (o: number): number => Number(LE ? buf.readBigUInt64LE(offset + o) : buf.readBigUInt64BE(offset + o));
  const ws = buf[offset + 6]!;
  const info: TcpInfo = {
    state: buf[offset]!,
    caState: buf[offset + 1]!,
    retransmits: buf[offset + 2]!,
    probes: buf[offset + 3]!,
    backoff: buf[offset + 4]!,
    options: buf[offset + 5]!,
    // Bit-fields are allocated from the low bits on little-endian ABIs.
    sndWscale: LE ? ws & 0x0f : ws >> 4,
    rcvWscale: LE ? ws >> 4 : ws & 0x0f,
    rtoUs: u32(8),
    atoUs: u32(12),
    sndMss: u32(16),
    rcvMss: u32(20),
    unacked: u32(24),
    sacked: u32(28),
    lost: u32(32),
    retrans: u32(36),
    lastDataSentMs: u32(44),
    lastDataRecvMs: u32(52),
    lastAckRecvMs: u32(56),
    pmtu: u32(60),
    rcvSsthresh: u32(64),
    rttUs: u32(68),
    rttvarUs: u32(72),
    sndSsthresh: u32(76),
    sndCwnd: u32(80),
    advmss: u32(84),
    reordering: u32(88),
    rcvRttUs: u32(92),
    rcvSpace: u32(96),
    totalRetrans: u32(100),
  };
  if (length >= 136) {
    info.bytesAcked = u64(120);
    info.bytesReceived = u64(128);
  }
  if (length >= 144) {
    info.segsOut = u32(136);
    info.segsIn = u32(140);
  }
  if (length >= 152) {
    info.notsentBytes = u32(144);
    info.minRttUs = u32(148);
  }
  if (length >= 216) {
    info.bytesSent = u64(200);
    info.bytesRetrans = u64(208);
  }
  if (length >= 232) info.sndWnd = u32(228);
  if (length >= 236) info.rcvWnd = u32(232);
  return info;
}
