/**
 * Challenge ACK (RFC 5961 §3.2): an RST whose sequence number is in the window but not exactly
 * the receiver's rcv_nxt is not obeyed; the receiver answers with a duplicate ACK and keeps the
 * connection. A genuine peer then sends an RST with the exact number; a blind attacker cannot.
 * (A SYN on a synchronized connection gets a challenge ACK too: see the port-reuse rule.)
 */
import { TH_ACK, TH_FIN, TH_RST, TH_SYN } from '../../dissect/packet.js';
import { type DiagnosisContext, type FindingParts, type SideView, peerOf } from '../context.js';

function one(ctx: DiagnosisContext, sender: SideView, out: FindingParts[]): void {
  const rsts = sender.ev.rare?.rsts;
  if (rsts === undefined) return;
  const receiver = peerOf(ctx, sender);
  for (const r of rsts) {
    if (!r.peerHadAck || r.seq === r.peerAckHigh || r.reactFrame === 0) continue;
    const f = r.reactFlags;
    if (!(f & TH_ACK) || f & (TH_RST | TH_SYN | TH_FIN) || r.reactLen !== 0) continue;
    const off = (r.seq - r.peerAckHigh) | 0;
    out.push({
      kind: 'challenge-ack',
      by: receiver.side,
      reason: 'NONE',
      confidence: 0.7,
      frames: [r.frame, r.reactFrame],
      time: r.reactTs,
      state: null,
      candidates: [],
      calls: { orig: [], resp: [] },
      summary:
        `${receiver.Label} ignored ${sender.label}'s RST (frame ${r.frame}, ${Math.abs(off)} bytes ${off > 0 ? 'past' : 'before'} rcv_nxt) and answered with a challenge ACK (frame ${r.reactFrame}, RFC 5961).`,
      advice: 'Harmless if an exact RST follows; repeated ones are a blind reset attempt or a sequence-rewriting middlebox.',
      rstText: null,
    });
    return;
  }
}

/**
 * A SYN on a 4-tuple the responder still has synchronized: it answers with a challenge ACK (an
 * ACK that does not acknowledge the SYN, RFC 5961 §4) and drops the SYN. If the SYN's sender
 * answers with RST, that is the port-reuse rule's case; if it says nothing (its socket is the live
 * one, or the SYN was forged), the old connection simply survives.
 */
function synChallenged(ctx: DiagnosisContext, out: FindingParts[]): void {
  const o = ctx.orig.ev;
  const r = ctx.resp.ev;
  if (o.syns === 0 || o.rstCount > 0 || r.synAcks > 0 || r.firstAckFrame === 0 || r.firstAckFrame < o.synFirstFrame) return;
  if (r.ackHigh === ((o.synIsn + 1) | 0)) return;
  out.push({
    kind: 'challenge-ack',
    by: 'resp',
    reason: 'NONE',
    confidence: 0.75,
    frames: [o.synFirstFrame, r.firstAckFrame],
    time: ctx.c.startTime,
    state: 'TCP_ESTABLISHED',
    candidates: [],
    calls: { orig: [], resp: [] },
    summary:
      `${ctx.resp.Label} answered a SYN on a 4-tuple it still had a connection for (frame ${o.synFirstFrame}) with a challenge ACK for that connection (frame ${r.firstAckFrame}, RFC 5961) and dropped the SYN; ` +
      `nobody reset it, so the old connection goes on (a restarted client would have answered with RST: see port-reuse).`,
    advice: 'Harmless here; repeated SYNs on live 4-tuples mean port reuse (a client restarting with fixed ports, NAT) or an off-path attacker probing.',
    rstText: null,
  });
}

export function challengeAck(ctx: DiagnosisContext, out: FindingParts[]): void {
  one(ctx, ctx.orig, out);
  one(ctx, ctx.resp, out);
  synChallenged(ctx, out);
}
