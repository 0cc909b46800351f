/**
 * The chat's wire format: LF-terminated UTF-8 lines, so that `nc`, `ncat`, `telnet` and the
 * seed's C client can take part without knowing anything else.
 *
 * Two concerns live here because both sit between the socket and everything above it:
 *  - framing: an incremental, bounded line splitter. One read() is never one message: a line may
 *    arrive in many reads and one read may carry many lines. The seed's server printed whatever a
 *    single recv() returned and wrote one byte past its buffer when the read filled it; here every
 *    byte is counted against an explicit limit and an over-long line is dropped, not truncated
 *    into two messages, while the connection carries on.
 *  - sanitising: no byte sequence a peer sends may reach another user's terminal as a control
 *    function (cursor movement, colours, window titles, hyperlinks, bidi reordering).
 *
 * Client → server lines: text, `/command args`, or `//text` for text that starts with a slash.
 * Server → client lines (docs/chat.md):
 *   `<nick> text`    a message to everyone          `<@name> text`  typed on the server's console
 *   `* nick text`    an action (/me)                `*nick* text`   a private message to you
 *   `-> *nick* text` your private message, as sent  `*** text`      a notice from the server
 */

/** Longest line (in bytes, without its LF or CRLF) a server accepts by default. */
export const DEFAULT_MAX_LINE_BYTES = 4096;

const LF = 0x0a;
const CR = 0x0d;

/** Receives what the framer finds. Called synchronously from push()/end(). */
export interface LineSink {
  /** One complete line without its terminator. A view into the input; copy it to keep it. */
  line(bytes: Buffer): void;
  /** A line longer than the limit was dropped whole; `bytes` is its length without terminator. */
  overlong(bytes: number): void;
}

/**
 * Splits a byte stream into lines of at most `maxLineBytes` bytes. Memory held between reads is
 * bounded by the limit (plus one byte for a CR): once a line is known to be too long its bytes
 * are counted and thrown away until its LF arrives.
 */
export class LineFramer {
  private parts: Buffer[] = [];
  private partBytes = 0;
  /** Bytes of the current over-long line seen so far; -1 while the line is within the limit. */
  private discarded = -1;

  constructor(
    readonly maxLineBytes: number,
    private readonly sink: LineSink,
  ) {
    if (!Number.isInteger(maxLineBytes) || maxLineBytes < 1) throw new RangeError('maxLineBytes must be a positive integer');
  }

  /** Bytes of an unfinished line held until its LF arrives. */
  get bufferedBytes(): number {
    return this.partBytes;
  }

  /** True while the bytes of an over-long line are being skipped. */
  get skipping(): boolean {
    return this.discarded >= 0;
  }

  push(chunk: Buffer): void {
    let start = 0;
    for (;;) {
      const nl = chunk.indexOf(LF, start);
      if (nl === -1) {
        if (start < chunk.length) this.keep(chunk.subarray(start));
        return;
      }
      this.finish(chunk.subarray(start, nl));
      start = nl + 1;
    }
  }

  /**
   * The stream ended (the peer sent FIN). Returns the unfinished last line, if any and within the
   * limit: `printf 'hi' | nc host port` sends a last line without LF, and it is a real message.
   * Over-long leftovers are reported through the sink. Resets the framer.
   */
  end(): Buffer | null {
    if (this.discarded >= 0) {
      const n = this.discarded;
      this.discarded = -1;
      this.sink.overlong(n);
      return null;
    }
    if (this.partBytes === 0) return null;
    let line = this.take(null);
    if (line[line.length - 1] === CR) line = line.subarray(0, line.length - 1);
    if (line.length > this.maxLineBytes) {
      this.sink.overlong(line.length);
      return null;
    }
    return line;
  }

  /** Forgets an unfinished line (the connection was reset: the line will never be completed). */
  discard(): number {
    const n = this.discarded >= 0 ? this.discarded : this.partBytes;
    this.parts = [];
    this.partBytes = 0;
    this.discarded = -1;
    return n;
  }

  private keep(segment: Buffer): void {
    if (this.discarded >= 0) {
      this.discarded += segment.length;
      return;
    }
    // One byte of slack for the CR of a CRLF that may still be followed by its LF.
    if (this.partBytes + segment.length > this.maxLineBytes + 1) {
      this.discarded = this.partBytes + segment.length;
      this.parts = [];
      this.partBytes = 0;
      return;
    }
    this.parts.push(segment);
    this.partBytes += segment.length;
  }

  private finish(segment: Buffer): void {
    if (this.discarded >= 0) {
      let n = this.discarded + segment.length;
      if (segment.length > 0 ? segment[segment.length - 1] === CR : false) n -= 1;
      this.discarded = -1;
      this.sink.overlong(n);
      return;
    }
    let line = this.partBytes === 0 ? segment : this.take(segment);
    if (line.length > 0 && line[line.length - 1] === CR) line = line.subarray(0, line.length - 1);
    if (line.length > this.maxLineBytes) this.sink.overlong(line.length);
    else this.sink.line(line);
  }

  private take(last: Buffer | null): Buffer {
    if (last !== null) this.parts.push(last);
    const whole = this.parts.length === 1 ? this.parts[0]! : Buffer.concat(this.parts);
    this.parts = [];
    this.partBytes = 0;
    return whole;
  }
}

/**
 * True if every byte is printable ASCII (0x20..0x7e). Such a line needs no decoding and no
 * sanitising, and its bytes can be relayed as they are: the fast path for ordinary chat.
 */
export function isPrintableAscii(bytes: Uint8Array): boolean {
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i]!;
    if (b < 0x20 || b > 0x7e) return false;
  }
  return true;
}

/*
 * What a terminal would interpret, per ECMA-48 and xterm's control sequences:
 *  - CSI: ESC [ (or the C1 byte 0x9b) parameters 0x30-0x3f, intermediates 0x20-0x2f, final 0x40-0x7e
 *  - OSC (ESC ] / 0x9d), DCS (ESC P / 0x90), SOS (ESC X / 0x98), PM (ESC ^ / 0x9e), APC (ESC _ /
 *    0x9f): a string up to BEL, ST (ESC \ or 0x9c) or the end of the line; all of it goes, since a
 *    terminal would swallow it too (and OSC 8 hyperlinks or OSC 52 clipboard writes must not pass)
 *  - other escapes: ESC, intermediates 0x20-0x2f, one final byte 0x30-0x7e (ESC c resets the terminal)
 * After those, any remaining C0 control (except TAB, which becomes a space), DEL and C1 control
 * is removed, and so are the Unicode format characters that reorder or hide text on screen
 * (bidi embeddings, overrides and isolates, LRM/RLM, line/paragraph separators, BOM).
 */
const CONTROL_STRING = /(?:\x1b[\]PX^_]|[\u0090\u0098\u009d\u009e\u009f])[^\x07\x1b\u009c]*(?:\x07|\x1b\\|\u009c)?/g;
const CSI_SEQUENCE = /(?:\x1b\[|\u009b)[\x30-\x3f]*[\x20-\x2f]*[\x40-\x7e]?/g;
const ESC_SEQUENCE = /\x1b[\x20-\x2f]*[\x30-\x7e]?/g;
const LEFTOVER_CONTROLS = /[\x00-\x08\x0a-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufeff]/g;

/** Removes every terminal control function and control character from already decoded text. */
export function sanitizeText(text: string): string {
  // Cheap test first: most text contains nothing to remove.
  if (!/[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufeff]/.test(text)) return text;
  return text
    .replace(CONTROL_STRING, '')
    .replace(CSI_SEQUENCE, '')
    .replace(ESC_SEQUENCE, '')
    .replace(/\t/g, ' ')
    .replace(LEFTOVER_CONTROLS, '');
}

/**
 * Decodes a line from the wire as UTF-8 (invalid sequences become U+FFFD, so a lone 0x9b byte
 * can never act as an 8-bit CSI) and sanitises it. Returns the bytes to relay: the input itself
 * when it was plain ASCII, otherwise the re-encoded clean text.
 */
export function sanitizeLine(bytes: Buffer): Buffer {
  if (isPrintableAscii(bytes)) return bytes;
  return Buffer.from(sanitizeText(bytes.toString('utf8')), 'utf8');
}

/** Nicknames: 1-16 of A-Z a-z 0-9 _ -, compared without regard to case. */
export const NICK_PATTERN = /^[A-Za-z0-9_-]{1,16}$/;
const RESERVED_NICKS = new Set(['server', 'announce', 'admin', 'root', 'tcpsleuth', 'nobody']);

/** Why a nickname is not acceptable, or null if it is. Says what would be. */
export function nickProblem(nick: string): string | null {
  if (nick.length === 0) return 'a nickname cannot be empty';
  if (!NICK_PATTERN.test(nick)) return 'a nickname is 1 to 16 letters, digits, "_" or "-"';
  if (RESERVED_NICKS.has(nick.toLowerCase())) return `"${nick}" is reserved`;
  if (/^guest\d+$/i.test(nick)) return 'guest names are given out by the server';
  return null;
}

/** Key for case-insensitive uniqueness of nicknames. */
export function nickKey(nick: string): string {
  return nick.toLowerCase();
}

/** The kinds of line a server sends, as a client parses them for display. */
export type ServerLine =
  | { kind: 'message'; from: string; text: string }
  | { kind: 'console'; from: string; text: string }
  | { kind: 'action'; from: string; text: string }
  | { kind: 'private'; from: string; text: string }
  | { kind: 'private-sent'; to: string; text: string }
  | { kind: 'notice'; text: string }
  | { kind: 'other'; text: string };

const NICK = '[A-Za-z0-9_-]{1,16}';
const MESSAGE = new RegExp(`^<(${NICK})> (.*)$`, 's');
const CONSOLE = new RegExp(`^<@([^>]{1,64})> (.*)$`, 's');
const ACTION = new RegExp(`^\\* (${NICK}) (.*)$`, 's');
const PRIVATE = new RegExp(`^\\*(${NICK})\\* (.*)$`, 's');
const PRIVATE_SENT = new RegExp(`^-> \\*(${NICK})\\* (.*)$`, 's');

/** Classifies a (sanitised) line from a server. Anything unrecognised is 'other', shown as is. */
export function parseServerLine(line: string): ServerLine {
  let m: RegExpExecArray | null;
  if (line.startsWith('*** ')) return { kind: 'notice', text: line.slice(4) };
  if ((m = MESSAGE.exec(line)) !== null) return { kind: 'message', from: m[1]!, text: m[2]! };
  if ((m = CONSOLE.exec(line)) !== null) return { kind: 'console', from: m[1]!, text: m[2]! };
  if ((m = PRIVATE_SENT.exec(line)) !== null) return { kind: 'private-sent', to: m[1]!, text: m[2]! };
  if ((m = ACTION.exec(line)) !== null) return { kind: 'action', from: m[1]!, text: m[2]! };
  if ((m = PRIVATE.exec(line)) !== null) return { kind: 'private', from: m[1]!, text: m[2]! };
  return { kind: 'other', text: line };
}
