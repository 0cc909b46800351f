/**
 * A request that got no answer: the client sent data, the server's kernel acknowledged all of it,
 * and the server sent nothing back — no byte, no RST. The handshake and the ACK came from the
 * kernel; the silence is the application's: busy, blocked, deadlocked, or it never accept()ed the
 * connection (a listener whose application does not accept still completes handshakes and queues
 * the data). Three endings:
 *  - the server closed without an answer (FIN before the client's): its application read the
 *    request and closed — curl's "Empty reply from server";
 *  - the client gave up: it closed or reset after waiting at least UNANSWERED_MIN_S;
 *  - still waiting when the capture stopped watching, for at least UNANSWERED_MIN_S.
 * An observation, not a failure: a protocol in which only the client talks (a log shipper)
 * looks the same; the finding says so.
 */
import { type DiagnosisContext, type FindingParts, bytesText, clock, epochOf, seconds } from '../context.js';

/** Silence shorter than this after a request is a server taking its time, not an unanswered request. */
export const UNANSWERED_MIN_S = 1;

export function unansweredRequest(ctx: DiagnosisContext, out: FindingParts[]): void {
  const client = ctx.orig;
  const server = ctx.resp;
  const o = client.ev;
  const r = server.ev;
  if (o.dataBytes === 0 || r.dataBytes !== 0 || r.rstCount !== 0 || !r.hasAck) return;
  // An answer the capture missed is still an answer: bytes acknowledged but never captured, or
  // the client acknowledging more of the server's sequence space than the capture saw.
  if (ctx.c.missedBytes > 0 || (o.hasAck && ((o.ackHigh - r.sndNxt) | 0) > 0)) return;
  // The server's kernel acknowledged every byte of the request (the client's FIN need not be).
  const requestEnd = o.fins > 0 ? (o.sndNxt - 1) | 0 : o.sndNxt;
  if (((r.ackHigh - requestEnd) | 0) < 0) return;
  const sent = epochOf(ctx, o.lastDataMs);
  const frames = o.firstDataFrame === o.lastDataFrame ? `frame ${o.lastDataFrame} at` : `frames ${o.firstDataFrame}–${o.lastDataFrame}, the last at`;
  const request = `${client.Label} sent ${bytesText(o.dataBytes)} (${frames} ${clock(sent)})`;
  const acked = `${server.label} acknowledged ${o.dataBytes === 1 ? 'it' : 'all of it'}`;
  // The client's FIN right after its request (a half-close: "that is all") is not giving up.
  const clientFinMs = o.fins > 0 && o.finMs - o.lastDataMs >= UNANSWERED_MIN_S * 1000 ? o.finMs : -1;
  const clientRst = o.rare?.rsts[0];
  let ending: string;
  let why = "The server's application did not answer: busy, blocked or deadlocked, or it never accept()ed the connection (the kernel completes handshakes and queues data for a listener whose application does not accept). A protocol in which only the client talks looks the same.";
  let at: number;
  let confidence: number;
  let frame: number;
  const serverClosedFirst = r.fins > 0 && (o.fins === 0 || r.finFrame < o.finFrame);
  if (serverClosedFirst) {
    at = epochOf(ctx, r.finMs);
    frame = r.finFrame;
    confidence = 0.6;
    ending = `and closed the connection ${seconds(at - sent)} later without a byte of answer (FIN, frame ${frame})`;
    why = 'Its application read the request and closed: an error path that closes without responding, a handler that crashed, a request it drops silently (curl: "Empty reply from server"). A protocol in which only the client talks, and the server closes, looks the same.';
  } else if (clientRst !== undefined || clientFinMs >= 0) {
    const rst = clientRst !== undefined && (clientFinMs < 0 || clientRst.ts < epochOf(ctx, clientFinMs));
    at = rst ? clientRst.ts : epochOf(ctx, clientFinMs);
    if (at - sent < UNANSWERED_MIN_S) return;
    frame = rst ? clientRst.frame : o.finFrame;
    confidence = 0.6;
    ending = `but sent nothing back; ${seconds(at - sent)} later the client gave up (${rst ? 'RST' : 'FIN'}, frame ${frame}): its timeout ran out before an answer came`;
  } else {
    at = ctx.observedUntil;
    if (at - sent < UNANSWERED_MIN_S || r.fins > 0) return;
    frame = o.lastDataFrame;
    confidence = 0.5;
    ending = `but sent nothing back in the ${seconds(at - sent)} the capture watched after it`;
  }
  // The client's FIN soon after its request, before any FIN of the server's: "that is all", then it waited.
  const halfClosed = o.fins > 0 && clientFinMs < 0 && !serverClosedFirst && !(o.rare?.rsts.length) ? ` (then half-closed with its FIN, frame ${o.finFrame}, and waited for the answer)` : '';
  out.push({
    kind: 'unanswered-request',
    by: server.side,
    reason: 'NONE',
    confidence,
    frames: [o.firstDataFrame, o.lastDataFrame, frame].filter((f, i, a) => a.indexOf(f) === i),
    time: sent,
    state: null,
    candidates: [],
    calls: {
      orig: [{ call: 'recv', errno: null, note: serverClosedFirst ? '0: end of stream, no answer' : 'waits' }],
      resp: [],
    },
    summary: `${request}${halfClosed}; ${acked} — its kernel received the request — ${ending}. ${why}`,
    advice:
      `On the server: is the application accepting and reading (ss -ltn Recv-Q for the accept queue, ss -tn Recv-Q for unread requests), what its threads are blocked on (a thread or stack dump), its logs for this request; on the client, a timeout that fits the server's real latency.`,
    rstText: null,
  });
}
