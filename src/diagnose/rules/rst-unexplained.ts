/** The last resort: an RST no rule explains. The evidence is shown; the reason is not guessed. */
import { at, rstFrames, receiverCalls, receiverSentence, type RstRule } from './rst-common.js';

export const unexplained: RstRule = (rc) => {
  const r = rc.rec;
  const expected = r.senderHadSeq ? `${r.senderSndNxt >>> 0}` : 'none seen';
  return {
    kind: 'reset',
    by: rc.sender.side,
    reason: 'UNKNOWN',
    confidence: 0.3,
    frames: rstFrames(rc),
    time: r.ts,
    state: rc.senderState,
    candidates: [],
    calls: receiverCalls(rc),
    summary:
      `${rc.sender.Label} sent an RST (${at(r)}, seq ${r.seq >>> 0}) that is neither a reply to the segment before it nor an abort at its own sequence (${expected}): ` +
      `another stack, a forged segment, or packets missing from the capture. ${receiverSentence(rc)}`,
    advice: 'Run tcpsleuth trace on the sending host: tcp_send_reset names the reason if its kernel sent it.',
    rstText: r.text,
  };
};
