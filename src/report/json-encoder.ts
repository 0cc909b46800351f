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
 * one is escaped; Buffer#write would turn it into U+FFFD, so strings with any take the slow path).
 */
const NEEDS_ESCAPE = /["\\\u0000-\u001f\ud800-\udfff]/;
/** At most this many distinct words are kept encoded (see word): a vocabulary, not a corpus. */
const MAX_WORDS = 4096;

/**
 * A piece of JSON syntax (keys, punctuation) as bytes, encoded once at start-up so that writing
 * it is a copy, not a walk over a string's characters. ASCII only, checked.
 */
export function literal(s: string): Uint8Array {
  if (!/^[\x20-\x7e]*$/.test(s)) throw new Error(`JSON literal ${JSON.stringify(s)} is not printable ASCII`);
  // A plain Uint8Array, like the words' copies, so `lit` reads one kind of array.
  return new Uint8Array(Buffer.from(s, 'latin1'));
}

const NULL = literal('null');
/** The buffer after take(): empty, so the next write allocates. */
const NO_BYTES = Buffer.alloc(0);

export class JsonEncoder {
  buf: Buffer;
  pos = 0;
  /** Quoted JSON strings of the words written so far (see word). */
  private readonly words = new Map<string, Uint8Array>();

  constructor(private readonly initialSize = 1 << 16) {
    this.buf = Buffer.allocUnsafe(initialSize);
  }

  /** Starts over (the buffer is kept). */
  reset(): void {
    this.pos = 0;
  }

  /** Ends a line of JSON Lines. */
  newline(): void {
    this.room(1);
    this.buf[this.pos++] = 0x0a;
  }

  /** Gives away the bytes written so far, without copying them; the next write starts a fresh buffer. */
  take(): Buffer {
    const done = this.buf.subarray(0, this.pos);
    this.buf = NO_BYTES;
    this.pos = 0;
    return done;
  }

  toString(): string {
    return this.buf.toString('utf8', 0, this.pos);
  }

  /** Makes room for `n` more bytes. */
  private room(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let size = Math.max(this.buf.length * 2, this.initialSize, 64);
    while (size < this.pos + n) size *= 2;
    const next = Buffer.allocUnsafe(size);
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  /** Bytes made by `literal`, copied as they are. */
  lit(bytes: Uint8Array): void {
    const n = bytes.length;
    this.room(n);
    const b = this.buf;
    const p = this.pos;
    // A loop beats TypedArray#set for the few bytes of a key.
    for (let i = 0; i < n; i++) b[p + i] = bytes[i]!;
    this.pos = p + n;
  }

  /**
   * A JSON string from a small vocabulary (states, kinds, reason and errno names): escaped and
   * encoded the first time, copied after that. The same string object is looked up by its cached
   * hash, so a repeated word costs a Map lookup and a copy.
   */
  word(s: string): void {
    let bytes = this.words.get(s);
    if (bytes === undefined) {
      const start = this.pos;
      this.str(s);
      // A copy: the encoder's buffer is reused and may be replaced when it grows.
      if (this.words.size < MAX_WORDS) this.words.set(s, new Uint8Array(this.buf.subarray(start, this.pos)));
      return;
    }
    this.lit(bytes);
  }

  /** Text written as it is (syntax, or text known to need no escaping), UTF-8 encoded. */
  raw(s: string): void {
    const n = s.length;
    this.room(n * 3);
    const b = this.buf;
    let p = this.pos;
    for (let i = 0; i < n; i++) {
      const c = s.charCodeAt(i);
      if (c < 0x80) b[p++] = c;
      else p = this.multiByte(s, i, c, p, false);
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
      // Sentences (a finding's summary and advice): V8's own scanning and UTF-8 encoding beat a
      // loop in JavaScript once a string is this long. Most need no escape at all: they are
      // encoded as they are, without the escaped copy JSON.stringify would allocate.
      if (NEEDS_ESCAPE.test(s)) {
        this.pos += this.buf.write(JSON.stringify(s), this.pos, 'utf8');
        return;
      }
      const b = this.buf;
      b[this.pos++] = 0x22;
      this.pos += b.write(s, this.pos, 'utf8');
      b[this.pos++] = 0x22;
      return;
    }
    const b = this.buf;
    let p = this.pos;
    b[p++] = 0x22;
    for (let i = 0; i < n; i++) {
      const c = s.charCodeAt(i);
      if (c >= 0x20 && c < 0x80) {
        if (c === 0x22 || c === 0x5c) b[p++] = 0x5c;
        b[p++] = c;
      } else if (c < 0x20) {
        b[p++] = 0x5c;
        if (c === 0x08) b[p++] = 0x62; // \b
        else if (c === 0x09) b[p++] = 0x74; // \t
        else if (c === 0x0a) b[p++] = 0x6e; // \n
        else if (c === 0x0c) b[p++] = 0x66; // \f
        else if (c === 0x0d) b[p++] = 0x72; // \r
        else p = writeUnicodeEscape(b, p, c);
      } else {
        p = this.multiByte(s, i, c, p, true);
        if (c >= 0xd800 && c <= 0xdbff && i + 1 < n && isLowSurrogate(s.charCodeAt(i + 1))) i++;
      }
    }
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
    if (n >= 0 && n < 4294967296) {
      if (Number.isInteger(n)) {
        this.uint(n);
        return;
      }
      // Times and durations are rounded to the microsecond (records.ts, micro) and confidences
      // have two decimals: spell those without String(n), which is slow for fractions. The test
      // K / 1e6 === n says n is the double nearest to the decimal K·10⁻⁶, and below 2³² two such
      // decimals are further apart than a double's spacing, so that decimal, without trailing
      // zeros, is exactly the shortest form String(n) would print.
      const k = Math.round(n * 1e6);
      if (k / 1e6 === n) {
        const whole = Math.floor(k / 1e6);
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
    let digits = 6;
    while (f % 10 === 0) {
      f /= 10;
      digits--;
    }
    this.room(digits + 1);
    const b = this.buf;
    b[this.pos] = 0x2e;
    let p = this.pos + digits;
    this.pos = p + 1;
    for (let i = 0; i < digits; i++, f = Math.floor(f / 10)) b[p--] = 0x30 + (f % 10);
  }

  numOrNull(n: number | null): void {
    if (n === null) this.lit(NULL);
    else this.num(n);
  }

  /** A whole number 0 ≤ n < 2³², digit by digit (small-integer arithmetic below 2³¹). */
  private uint(n: number): void {
    this.room(10);
    const b = this.buf;
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
    let m = n | 0;
    do {
      const q = (m / 10) | 0;
      b[--p] = 0x30 + (m - q * 10);
      m = q;
    } while (m > 0);
  }

  /**
   * Encodes the non-ASCII unit at s[i] (and its low surrogate, if it starts a pair) at b[p];
   * returns the new position. The caller skips the low surrogate.
   */
  private multiByte(s: string, i: number, c: number, p: number, escapeLoneSurrogates: boolean): number {
    const b = this.buf;
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

/** `uXXXX` (lower-case hex, as JSON.stringify writes it) after a backslash already written. */
function writeUnicodeEscape(b: Buffer, p: number, c: number): number {
  b[p++] = 0x75;
  b[p++] = HEX.charCodeAt((c >> 12) & 15);
  b[p++] = HEX.charCodeAt((c >> 8) & 15);
  b[p++] = HEX.charCodeAt((c >> 4) & 15);
  b[p++] = HEX.charCodeAt(c & 15);
  return p;
}
