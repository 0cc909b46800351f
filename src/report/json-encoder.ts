/**
 * Writes JSON as UTF-8 bytes straight into a growing Buffer, the way JSON.stringify would spell
 * it, without building strings on the way: a report of a large capture is tens of megabytes of
 * JSON, and concatenating it as strings first, then encoding them, costs more than analysing
 * the packets behind it.
 *
 * Each method appends one JSON token (or a literal piece of syntax with `raw`); the caller
 * arranges them into objects. test/json-output.test.ts compares the result with JSON.stringify.
 */
const HEX = '0123456789abcdef';
/** Strings longer than this are escaped by JSON.stringify and encoded by Buffer#write (see str). */
const LONG_STRING = 64;
/**
 * What JSON.stringify would escape: quote, backslash, control characters, and surrogates (a lone
 * one is escaped; Buffer#write would turn it into U+FFFD, so each is looked at). Global, for the
 * lastIndex of its matches (see sentence); JavaScript is single-threaded, so sharing it is safe.
 */
const NEEDS_ESCAPE = /["\\\u0000-\u001f\ud800-\udfff]/g;
/** At most this many distinct words are kept encoded (see word): a vocabulary, not a corpus. */
const MAX_WORDS = 4096;

/**
 * A piece of JSON syntax (keys, punctuation) or an encoded word, as bytes packed four to an
 * element: writing it is a few 32-bit stores rather than a store per byte (see JsonEncoder.lit).
 */
export class Literal {
  /**
   * The bytes in little-endian order, the last element padded with zeros: lit may write up to
   * three bytes past a literal's end, garbage the next token overwrites (take() hands out only
   * what was written).
   */
  readonly words: Int32Array;
  readonly length: number;

  constructor(bytes: Uint8Array) {
    this.length = bytes.length;
    this.words = new Int32Array(Math.ceil(bytes.length / 4));
    for (let i = 0; i < bytes.length; i++) this.words[i >> 2]! |= bytes[i]! << ((i & 3) * 8);
  }
}

/** A piece of JSON syntax, encoded once at start-up. ASCII only, checked. */
export function literal(s: string): Literal {
  if (!/^[\x20-\x7e]*$/.test(s)) throw new Error(`JSON literal ${JSON.stringify(s)} is not printable ASCII`);
  return new Literal(Buffer.from(s, 'latin1'));
}

const NULL = literal('null');
/** "00" to "99" as 16-bit little-endian words: two digits of a number in one store. */
const DIGIT_PAIRS = new Uint16Array(100);
for (let i = 0; i < 100; i++) DIGIT_PAIRS[i] = (0x30 + Math.floor(i / 10)) | ((0x30 + (i % 10)) << 8);
/** The buffer after take(): empty, so the next write allocates. */
const NO_BYTES = Buffer.alloc(0);

export class JsonEncoder {
  /** Where the JSON is written; `view` follows it whenever it is replaced. */
  private bytes: Buffer;
  pos = 0;
  /** A view of the bytes for the word-sized stores of lit, uint and fraction6; replaced with them. */
  private view: DataView;
  /** Quoted JSON strings of the words written so far (see word). */
  private readonly words = new Map<string, Literal>();
  /** A buffer given away by take() and handed back (recycle), for the next one to need room. */
  private spare: Buffer | null = null;

  constructor(private readonly initialSize = 1 << 16) {
    this.bytes = Buffer.allocUnsafe(initialSize);
    this.view = viewOf(this.bytes);
  }

  /** The buffer: what was written is buf[0, pos). Read-only from outside: writes go through the methods. */
  get buf(): Buffer {
    return this.bytes;
  }

  /** Starts over (the buffer is kept). */
  reset(): void {
    this.pos = 0;
  }

  /** Ends a line of JSON Lines. */
  newline(): void {
    this.room(1);
    this.bytes[this.pos++] = 0x0a;
  }

  /**
   * Gives away the bytes written so far, without copying them; the next write starts in another
   * buffer (the spare one, if a taken buffer came back).
   */
  take(): Buffer {
    const done = this.bytes.subarray(0, this.pos);
    this.bytes = NO_BYTES;
    this.view = viewOf(NO_BYTES);
    this.pos = 0;
    return done;
  }

  /**
   * Takes back what take() gave away, once its bytes are no longer needed (written out), so that
   * a stream of chunks reuses two buffers instead of allocating one per chunk: megabytes each,
   * outside the JavaScript heap, which the garbage collector frees late.
   */
  recycle(chunk: Buffer): void {
    // Only a whole buffer of our own: a small one may share its memory with others (Buffer's pool).
    if (chunk.byteOffset !== 0 || chunk.buffer.byteLength < this.initialSize || this.spare !== null) return;
    this.spare = Buffer.from(chunk.buffer, 0, chunk.buffer.byteLength);
  }

  toString(): string {
    return this.bytes.toString('utf8', 0, this.pos);
  }

  /** Makes room for `n` more bytes. */
  private room(n: number): void {
    if (this.pos + n <= this.bytes.length) return;
    let size = Math.max(this.bytes.length * 2, this.initialSize, 64);
    while (size < this.pos + n) size *= 2;
    let next: Buffer;
    if (this.spare !== null && this.spare.length >= size) {
      next = this.spare;
      this.spare = null;
    } else {
      next = Buffer.allocUnsafe(size);
    }
    this.bytes.copy(next, 0, 0, this.pos);
    this.bytes = next;
    this.view = viewOf(next);
  }

  /** A literal's bytes, copied as they are. */
  lit(l: Literal): void {
    const w = l.words;
    const n = w.length;
    this.room(n * 4);
    const v = this.view;
    const p = this.pos;
    // Whole words, the last one's padding included: a store per four bytes instead of per byte
    // (TypedArray#set costs more than that for the few bytes of a key).
    for (let i = 0; i < n; i++) v.setInt32(p + i * 4, w[i]!, true);
    this.pos = p + l.length;
  }

  /**
   * A JSON string from a small vocabulary (states, kinds, reason and errno names): escaped and
   * encoded the first time, copied after that. The same string
   * object is looked up by its cached hash, so a repeated word costs a Map lookup and a copy.
   */
  word(s: string): void {
    const known = this.words.get(s);
    if (known === undefined) {
      const start = this.pos;
      this.str(s);
      // A copy: the encoder's buffer is reused and may be replaced when it grows.
      if (this.words.size < MAX_WORDS) this.words.set(s, new Literal(new Uint8Array(this.bytes.subarray(start, this.pos))));
      return;
    }
    this.lit(known);
  }

  /** Text written as it is (syntax, or text known to need no escaping), UTF-8 encoded. */
  raw(s: string): void {
    const n = s.length;
    this.room(n * 3);
    const b = this.bytes;
    let p = this.pos;
    for (let i = 0; i < n; i++) {
      const c = s.charCodeAt(i);
      if (c < 0x80) {
        b[p++] = c;
        continue;
      }
      p = this.multiByte(s, i, c, p, false);
      if (c >= 0xd800 && c <= 0xdbff && i + 1 < n && isLowSurrogate(s.charCodeAt(i + 1))) i++;
    }
    this.pos = p;
  }

  /** A JSON string: quoted, with JSON.stringify's escapes (well-formed: lone surrogates as \u escapes). */
  str(s: string): void {
    const n = s.length;
    // Worst case: every unit a 6-byte \u escape, plus the quotes.
    this.room(n * 6 + 2);
    if (n > LONG_STRING) {
      this.sentence(s);
      return;
    }
    const b = this.bytes;
    let p = this.pos;
    b[p++] = 0x22;
    for (let i = 0; i < n; i++) {
      const c = s.charCodeAt(i);
      if (c >= 0x20 && c < 0x80) {
        if (c === 0x22 || c === 0x5c) b[p++] = 0x5c;
        b[p++] = c;
      } else if (c < 0x20) {
        p = writeEscape(b, p, c);
      } else {
        p = this.multiByte(s, i, c, p, true);
        if (c >= 0xd800 && c <= 0xdbff && i + 1 < n && isLowSurrogate(s.charCodeAt(i + 1))) i++;
      }
    }
    b[p++] = 0x22;
    this.pos = p;
  }

  /**
   * str for a long string (a finding's summary and advice), room made: V8's regular expression
   * finds what needs escaping and Buffer#write encodes the runs between, both faster than a loop
   * in JavaScript at this length, and without the escaped copy JSON.stringify would allocate.
   */
  private sentence(s: string): void {
    const b = this.bytes;
    let p = this.pos;
    b[p++] = 0x22;
    let from = 0;
    NEEDS_ESCAPE.lastIndex = 0;
    // A global expression's test() leaves lastIndex after the match and needs no match array.
    while (NEEDS_ESCAPE.test(s)) {
      const i = NEEDS_ESCAPE.lastIndex - 1;
      const c = s.charCodeAt(i);
      if (c >= 0xd800 && c <= 0xdbff && isLowSurrogate(s.charCodeAt(i + 1))) {
        // A surrogate pair: well-formed, encoded with its run.
        NEEDS_ESCAPE.lastIndex = i + 2;
        continue;
      }
      if (i > from) p += b.write(s.slice(from, i), p, 'utf8');
      p = writeEscape(b, p, c);
      from = i + 1;
    }
    if (from === 0) p += b.write(s, p, 'utf8');
    else if (from < s.length) p += b.write(s.slice(from), p, 'utf8');
    b[p++] = 0x22;
    this.pos = p;
  }

  /** A string or null. */
  strOrNull(s: string | null): void {
    if (s === null) this.lit(NULL);
    else this.str(s);
  }

  /** A vocabulary word (see word) or null. */
  wordOrNull(s: string | null): void {
    if (s === null) this.lit(NULL);
    else this.word(s);
  }

  /** A number as JSON.stringify writes it (null for NaN and infinities). */
  num(n: number): void {
    // A whole number 0 ≤ n < 2³² (or -0, which JSON.stringify spells 0 too): counts, ids, ports.
    if (n >>> 0 === n) {
      this.uint(n);
      return;
    }
    if (n > 0 && n < 4294967296) {
      // Times and durations are rounded to the microsecond (records.ts, micro) and confidences
      // have two decimals: spell those without String(n), which is slow for fractions. The test
      // K / 1e6 === n says n is the double nearest to the decimal K·10⁻⁶, and below 2³² two such
      // decimals are further apart than a double's spacing, so that decimal, without trailing
      // zeros, is exactly the shortest form String(n) would print.
      const k = Math.round(n * 1e6);
      if (k / 1e6 === n) {
        const whole = Math.floor(n);
        this.uint(whole);
        this.fraction6(k - whole * 1e6);
        return;
      }
    }
    if (Number.isFinite(n)) this.raw(String(n));
    else this.lit(NULL);
  }

  /** ".dddddd" for 0 < f < 10⁶ millionths, without trailing zeros. */
  private fraction6(f: number): void {
    this.room(7);
    const b = this.bytes;
    const p = this.pos;
    b[p] = 0x2e;
    // All six digits in small-integer arithmetic (a remainder of doubles is a call to fmod), then
    // the trailing zeros taken back: f > 0, so a digit other than 0 stops that.
    const v = this.view;
    const m = f | 0;
    const q = (m / 100) | 0;
    const qq = (q / 100) | 0;
    v.setUint16(p + 1, DIGIT_PAIRS[qq]!, true);
    v.setUint16(p + 3, DIGIT_PAIRS[q - qq * 100]!, true);
    v.setUint16(p + 5, DIGIT_PAIRS[m - q * 100]!, true);
    let end = p + 7;
    while (b[end - 1] === 0x30) end--;
    this.pos = end;
  }

  numOrNull(n: number | null): void {
    if (n === null) this.lit(NULL);
    else this.num(n);
  }

  /** A whole number 0 ≤ n < 2³², digit by digit (small-integer arithmetic below 2³¹). */
  private uint(n: number): void {
    this.room(10);
    const b = this.bytes;
    if (n < 10) {
      b[this.pos++] = 0x30 + n;
      return;
    }
    if (n >= 0x80000000) {
      // 2³¹ ≤ n < 2³²: peel off the last digit so the rest is a small integer.
      const rest = Math.floor(n / 10);
      this.uint(rest);
      b[this.pos++] = 0x30 + (n - rest * 10);
      return;
    }
    const digits =
      n < 100000
        ? n < 100 ? 2 : n < 1000 ? 3 : n < 10000 ? 4 : 5
        : n < 10000000 ? (n < 1000000 ? 6 : 7) : n < 100000000 ? 8 : n < 1000000000 ? 9 : 10;
    let p = this.pos + digits;
    this.pos = p;
    // Two digits at a time, from the last.
    const v = this.view;
    let m = n | 0;
    while (m >= 100) {
      const q = (m / 100) | 0;
      p -= 2;
      v.setUint16(p, DIGIT_PAIRS[m - q * 100]!, true);
      m = q;
    }
    if (m >= 10) v.setUint16(p - 2, DIGIT_PAIRS[m]!, true);
    else b[p - 1] = 0x30 + m;
  }

  /**
   * Encodes the non-ASCII unit at s[i] (and its low surrogate, if it starts a pair) at b[p];
   * returns the new position. The caller skips the low surrogate.
   */
  private multiByte(s: string, i: number, c: number, p: number, escapeLoneSurrogates: boolean): number {
    const b = this.bytes;
    if (c < 0x800) {
      b[p++] = 0xc0 | (c >> 6);
      b[p++] = 0x80 | (c & 0x3f);
      return p;
    }
    if (c >= 0xd800 && c <= 0xdfff) {
      const next = i + 1 < s.length ? s.charCodeAt(i + 1) : 0;
      if (c <= 0xdbff && isLowSurrogate(next)) {
        const cp = 0x10000 + ((c - 0xd800) << 10) + (next - 0xdc00);
        b[p++] = 0xf0 | (cp >> 18);
        b[p++] = 0x80 | ((cp >> 12) & 0x3f);
        b[p++] = 0x80 | ((cp >> 6) & 0x3f);
        b[p++] = 0x80 | (cp & 0x3f);
        return p;
      }
      // A lone surrogate: JSON.stringify escapes it; Buffer#write would write U+FFFD.
      if (escapeLoneSurrogates) {
        b[p++] = 0x5c;
        return writeUnicodeEscape(b, p, c);
      }
      c = 0xfffd;
    }
    b[p++] = 0xe0 | (c >> 12);
    b[p++] = 0x80 | ((c >> 6) & 0x3f);
    b[p++] = 0x80 | (c & 0x3f);
    return p;
  }
}

function isLowSurrogate(c: number): boolean {
  return c >= 0xdc00 && c <= 0xdfff;
}

/**
 * The escape of a unit JSON.stringify escapes (quote, backslash, control character, lone
 * surrogate) at b[p]; returns the new position.
 */
function writeEscape(b: Buffer, p: number, c: number): number {
  b[p++] = 0x5c;
  if (c === 0x22 || c === 0x5c) b[p++] = c;
  else if (c === 0x08) b[p++] = 0x62; // \b
  else if (c === 0x09) b[p++] = 0x74; // \t
  else if (c === 0x0a) b[p++] = 0x6e; // \n
  else if (c === 0x0c) b[p++] = 0x66; // \f
  else if (c === 0x0d) b[p++] = 0x72; // \r
  else p = writeUnicodeEscape(b, p, c);
  return p;
}

/** `uXXXX` (lower-case hex, as JSON.stringify writes it) after a backslash already written. */
function writeUnicodeEscape(b: Buffer, p: number, c: number): number {
  b[p++] = 0x75;
  b[p++] = HEX.charCodeAt((c >> 12) & 15);
  b[p++] = HEX.charCodeAt((c >> 8) & 15);
  b[p++] = HEX.charCodeAt((c >> 4) & 15);
  b[p++] = HEX.charCodeAt(c & 15);
  return p;
}

function viewOf(b: Buffer): DataView {
  return new DataView(b.buffer, b.byteOffset, b.length);
}
