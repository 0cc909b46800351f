/**
 * Property test of the hand-written JSON writer (src/report/json-encoder.ts, src/report/json.ts):
 * for random strings, numbers, runs of literals and whole connection records, the bytes it writes
 * must be exactly the UTF-8 of what JSON.stringify says for the same value.
 *
 * Deterministic: every case draws from a PRNG seeded with TCPSLEUTH_JSON_PROP_SEED (a fixed default
 * otherwise) and its own index, and a failure names the seed, the property and the case.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { CallOutcome, ConnectionRecord, DirectionStats, Finding } from '../src/analyze/records.js';
import { connectionToJson, writeConnectionJson } from '../src/report/json.js';
import { JsonEncoder, type Literal, literal } from '../src/report/json-encoder.js';
import { prng } from './helpers/prng.js';

const SEED = Number(process.env['TCPSLEUTH_JSON_PROP_SEED'] ?? 0x5eed1e55) >>> 0;

/** Random draws for one case: its own stream, so that it can be replayed alone. */
class Gen {
  readonly next: () => number;
  constructor(salt: number, index: number) {
    this.next = prng((SEED ^ Math.imul(salt, 0x9e3779b1)) + Math.imul(index, 0x85ebca6b));
  }
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  /** lo ≤ x ≤ hi */
  range(lo: number, hi: number): number {
    return lo + this.int(hi - lo + 1);
  }
  pick<T>(list: readonly T[]): T {
    return list[this.int(list.length)]!;
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
}

function where(property: string, index: number, input?: unknown): string {
  let shown = '';
  try {
    shown = input === undefined ? '' : ` input ${JSON.stringify(input, (_k, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? String(v) : Object.is(v, -0) ? '-0' : v))}`;
  } catch {
    shown = ' (input not printable)';
  }
  return `seed ${SEED} (TCPSLEUTH_JSON_PROP_SEED=${SEED}), property ${property}, case ${index}${shown.length > 2000 ? `${shown.slice(0, 2000)}…` : shown}`;
}

/** The encoder's bytes written since `from`. */
function written(e: JsonEncoder, from: number): Buffer {
  return Buffer.from(e.buf.subarray(from, e.pos));
}

function utf8(s: string): Buffer {
  return Buffer.from(s, 'utf8');
}

// ---------------------------------------------------------------------------------------------
// Strings

const ASCII_SPECIAL = ['"', '\\', '/', '\u007f', ' ', "'", '<', '>', '&'];

/** One unit or pair of a random class: what the writer's branches tell apart. */
function piece(g: Gen): string {
  switch (g.int(10)) {
    case 0:
    case 1:
    case 2:
      return String.fromCharCode(g.range(0x20, 0x7e)); // printable ASCII
    case 3:
      return String.fromCharCode(g.range(0, 0x1f)); // control characters
    case 4:
      return g.pick(ASCII_SPECIAL);
    case 5:
      return String.fromCharCode(g.range(0x80, 0x7ff)); // two UTF-8 bytes
    case 6: {
      // three UTF-8 bytes, outside the surrogates; the edges of the plane and U+2028/9 often
      const c = g.chance(0.3) ? g.pick([0x800, 0xd7ff, 0xe000, 0xfeff, 0xfffd, 0xfffe, 0xffff, 0x2028, 0x2029]) : g.range(0x800, 0xd7ff);
      return String.fromCharCode(c);
    }
    case 7: {
      // a valid surrogate pair (four UTF-8 bytes)
      const cp = g.chance(0.3) ? g.pick([0x10000, 0x10ffff, 0x1f600]) : g.range(0x10000, 0x10ffff);
      return String.fromCodePoint(cp);
    }
    case 8:
      return String.fromCharCode(g.chance(0.3) ? g.pick([0xd800, 0xdbff]) : g.range(0xd800, 0xdbff)); // lone high (unless a low follows)
    default:
      return String.fromCharCode(g.chance(0.3) ? g.pick([0xdc00, 0xdfff]) : g.range(0xdc00, 0xdfff)); // lone low (unless a high precedes)
  }
}

/** A length: short, around the 64-unit line between the two paths, or long (up to ~300). */
function stringLength(g: Gen): number {
  switch (g.int(4)) {
    case 0:
      return g.int(12);
    case 1:
      return g.range(58, 72);
    case 2:
      return g.range(0, 120);
    default:
      return g.range(120, 300);
  }
}

/**
 * A random string of about `n` units: mostly anything, or a plain sentence with a few escapes
 * (long runs between them, as in a finding's summary), with lone surrogates forced to either end.
 */
function randomString(g: Gen, n = stringLength(g)): string {
  let s = '';
  if (g.chance(0.5)) {
    while (s.length < n) s += piece(g);
  } else {
    const words = ['the', 'client', 'server', 'frame', 'RST', 'é', '—', '日本', '😀', '"', '\\', '\n', '\t', 'x'];
    while (s.length < n) s += (g.chance(0.9) ? ' ' : g.pick(['', '\u0000', '\ud800', '\udc00'])) + g.pick(words);
  }
  if (s.length > n + 4) s = s.slice(0, n); // may cut a pair in two: a lone high at the end
  switch (g.int(8)) {
    case 0:
      return `${String.fromCharCode(g.range(0xd800, 0xdbff))}${s}`;
    case 1:
      return `${String.fromCharCode(g.range(0xdc00, 0xdfff))}${s}`;
    case 2:
      return `${s}${String.fromCharCode(g.range(0xd800, 0xdbff))}`;
    case 3:
      return `${s}${String.fromCharCode(g.range(0xdc00, 0xdfff))}`;
    case 4:
      return `${s}${g.pick(['"', '\\', '\u001f', '\n'])}`;
    default:
      return s;
  }
}

/** Strings that sit on the writer's edges, checked before the random ones. */
function edgeStrings(): string[] {
  const out: string[] = ['', '"', '\\', '\ud800', '\udc00', '\ud83d\ude00', '\udc00\ud800', '\ud800\ud800\udc00', '\ud800\udc00\udc00'];
  for (const n of [63, 64, 65, 66, 128]) {
    const x = 'x'.repeat(n);
    out.push(x, `${x.slice(1)}"`, `"${x.slice(1)}`, `${x.slice(1)}\ud800`, `\udc00${x.slice(1)}`, `${x.slice(2)}\ud83d\ude00`);
    out.push(`${x.slice(1)}é`, `${'é'.repeat(n)}`, `${'😀'.repeat(n >> 1)}`, `${'\u0001'.repeat(n)}`, `${'\ud800'.repeat(n)}`, `${'\udc00'.repeat(n)}`);
    out.push(`${x.slice(3)}\ud800"\\`, `${x.slice(3)}\ud83d\ude00\udc00`, `\ud800${x.slice(2)}\udfff`);
  }
  return out;
}

describe('json-encoder property test', () => {
  it('str, strOrNull, word (first and cached) and raw say what JSON.stringify / Buffer.from say, for random strings', () => {
    const cases: string[] = edgeStrings();
    for (let i = 0; cases.length < 2500; i++) cases.push(randomString(new Gen(1, i)));
    // Small, so growing from every position is exercised; a large one too, so that the pooled and
    // unpooled allocations both occur.
    const encoders = [new JsonEncoder(1), new JsonEncoder(8), new JsonEncoder(100), new JsonEncoder(5000)];
    for (let i = 0; i < cases.length; i++) {
      const s = cases[i]!;
      const want = utf8(JSON.stringify(s));
      const e = encoders[i % encoders.length]!;
      // A prefix of 0 to 3 bytes, so that the token starts at every alignment.
      if (i % 16 === 0) e.reset();
      const lead = 'abc'.slice(0, i % 4);
      e.raw(lead);
      let from = e.pos;
      e.str(s);
      assert.deepEqual(written(e, from), want, `str: ${where('strings', i, s)}`);
      from = e.pos;
      e.strOrNull(s);
      assert.deepEqual(written(e, from), want, `strOrNull: ${where('strings', i, s)}`);
      // word: encoded the first time, copied from the cache the second.
      for (let k = 0; k < 2; k++) {
        from = e.pos;
        e.word(s);
        assert.deepEqual(written(e, from), want, `word (${k === 0 ? 'first' : 'cached'}): ${where('strings', i, s)}`);
      }
      from = e.pos;
      e.wordOrNull(s);
      assert.deepEqual(written(e, from), want, `wordOrNull: ${where('strings', i, s)}`);
      // raw: UTF-8 as Buffer.from writes it (a lone surrogate becomes U+FFFD).
      from = e.pos;
      e.raw(s);
      assert.deepEqual(written(e, from), utf8(s), `raw: ${where('strings', i, s)}`);
      // The whole buffer decodes to what was written, the lead included.
      assert.ok(e.pos <= e.buf.length, `pos past the buffer: ${where('strings', i, s)}`);
    }
  });

  // -------------------------------------------------------------------------------------------
  // Numbers

  /** The nearest double to a decimal written out (parsing is exact to the nearest). */
  function decimal(intPart: number, digits: string): number {
    return Number(`${intPart}.${digits}`);
  }

  function randomDigits(g: Gen, n: number): string {
    let d = '';
    for (let k = 0; k < n; k++) d += String(g.int(10));
    return d;
  }

  function randomNumber(g: Gen): number {
    const sign = g.chance(0.2) ? -1 : 1;
    switch (g.int(12)) {
      case 0:
        return sign * g.range(0, 1000); // around 0
      case 1:
        return sign * (2 ** 31 + g.range(-1000, 1000));
      case 2:
        return sign * (2 ** 32 + g.range(-1000, 1000));
      case 3:
        return sign * (2 ** 53 + g.range(-1000, 1000));
      case 4: {
        // a fraction with 1 to 6 decimals, the whole part anywhere below 2^33
        const whole = g.pick([0, 1, g.int(1000), g.int(2 ** 31), 2 ** 31 - 1, 2 ** 31, 2 ** 32 - 1, 2 ** 32, g.int(2 ** 33)]);
        return sign * decimal(whole, randomDigits(g, g.range(1, 6)));
      }
      case 5: {
        // microsecond timestamps, spelt out or rounded as records.ts (micro) rounds them
        const t = decimal(1709251200 + g.int(400000000), randomDigits(g, 6));
        return g.chance(0.5) ? t : Math.round((t + g.next() * 1e-6) * 1e6) / 1e6;
      }
      case 6:
        return g.range(0, 2 ** 52) / 1e6; // K / 1e6 (from 0 to about 4.5e9)
      case 7:
        return g.int(2 ** 32) / 1e6 + g.pick([0, 1e-7, -1e-7, 1e-9]); // near a K / 1e6, off it
      case 8: {
        // any double: random bits (denormals, huge, NaN payloads included)
        const v = new DataView(new ArrayBuffer(8));
        v.setUint32(0, g.int(2 ** 32));
        v.setUint32(4, g.int(2 ** 32));
        return v.getFloat64(0);
      }
      case 9:
        return sign * g.next() * 10 ** g.range(-30, 30);
      case 10:
        return sign * Math.round(g.next() * 100) / 100; // confidences
      default:
        return g.pick([NaN, Infinity, -Infinity, -0, 0, Number.MIN_VALUE, Number.MAX_VALUE, Number.EPSILON, 1e21, 1e-7, 1e-6, 0.1 + 0.2, 2 ** 31 - 0.5, 2 ** 32 - 1e-6, 4294967295.999999, 0.9999995]);
    }
  }

  it('num and numOrNull say what JSON.stringify says, for random numbers', () => {
    const e = new JsonEncoder(16);
    const fixed = [0, -0, NaN, Infinity, -Infinity, 2 ** 31, 2 ** 32, 2 ** 53, -(2 ** 31), 1709251200.123456, 0.000001, 0.0000005, 4294967295.5, 2147483648.000001];
    const cases: number[] = [...fixed];
    for (let i = 0; cases.length < 4000; i++) cases.push(randomNumber(new Gen(2, i)));
    for (let i = 0; i < cases.length; i++) {
      const n = cases[i]!;
      if (i % 64 === 0) e.reset();
      e.raw('xyz'.slice(0, i % 4));
      const want = utf8(JSON.stringify(n));
      let from = e.pos;
      e.num(n);
      assert.deepEqual(written(e, from), want, `num: ${where('numbers', i, n)} (String: ${String(n)})`);
      from = e.pos;
      e.numOrNull(n);
      assert.deepEqual(written(e, from), want, `numOrNull: ${where('numbers', i, n)}`);
    }
    e.reset();
    e.numOrNull(null);
    assert.equal(e.toString(), 'null');
  });

  // -------------------------------------------------------------------------------------------
  // Literals back to back: the padding lit writes past a literal's end must never show

  const PRINTABLE = Array.from({ length: 0x7f - 0x20 }, (_, k) => String.fromCharCode(0x20 + k)).join('');

  it('runs of literals of every length, with and without tokens between, end the same however the bytes are taken', () => {
    const pool = new Map<string, Literal>();
    const lit = (s: string): Literal => {
      let l = pool.get(s);
      if (l === undefined) pool.set(s, (l = literal(s)));
      return l;
    };
    for (let i = 0; i < 1500; i++) {
      const g = new Gen(3, i);
      const e = new JsonEncoder(g.pick([1, 3, 4, 5, 8, 13, 64, 4096]));
      const chunks: Buffer[] = [];
      let want = '';
      const ops: string[] = [];
      for (let k = g.range(1, 40); k > 0; k--) {
        const op = g.int(10);
        if (op < 6) {
          // a literal of 0 to 40 printable ASCII bytes: every remainder mod 4
          const len = g.int(41);
          let s = '';
          for (let j = 0; j < len; j++) s += PRINTABLE[g.int(PRINTABLE.length)];
          e.lit(lit(s));
          want += s;
          ops.push(`lit(${JSON.stringify(s)})`);
        } else if (op === 6) {
          // single bytes after a literal: the next write must start at its true end
          const n = g.int(10);
          e.num(n);
          want += String(n);
          ops.push(`num(${n})`);
        } else if (op === 7) {
          const s = randomString(g, g.int(8));
          e.str(s);
          want += JSON.stringify(s);
          ops.push(`str(${JSON.stringify(s)})`);
        } else if (op === 8) {
          e.newline();
          want += '\n';
          ops.push('newline()');
        } else {
          // hand out what was written so far: the next write starts a fresh buffer
          chunks.push(e.take());
          ops.push('take()');
        }
      }
      // The end: a literal is often the last write; then toString, take, or a newline and take.
      if (g.chance(0.5)) {
        const s = PRINTABLE.slice(g.int(20), g.int(20) + g.range(1, 7));
        e.lit(lit(s));
        want += s;
        ops.push(`lit(${JSON.stringify(s)})`);
      }
      const end = g.int(3);
      const soFar = Buffer.concat(chunks).toString('utf8');
      if (end === 0) {
        assert.equal(soFar + e.toString(), want, `toString: ${where('literals', i, ops)}`);
      } else {
        if (end === 2) {
          e.newline();
          want += '\n';
        }
        const last = e.take();
        assert.equal(last.length, utf8(want).length - utf8(soFar).length, `take() length: ${where('literals', i, ops)}`);
        assert.equal(soFar + last.toString('utf8'), want, `take: ${where('literals', i, ops)}`);
        // Nothing written after take() reaches the bytes handed out.
        const copy = Buffer.from(last);
        e.lit(lit('ZZZZZZZ'));
        e.num(4294967295.123456);
        assert.deepEqual(last, copy, `a write after take() changed the bytes taken: ${where('literals', i, ops)}`);
      }
    }
  });

  // -------------------------------------------------------------------------------------------
  // Whole records

  const CONN_STATES = ['S0', 'S1', 'SF', 'REJ', 'S2', 'S3', 'RSTO', 'RSTR', 'RSTOS0', 'RSTRH', 'SH', 'SHR', 'OTH'] as const;
  const ENDPOINT_STATES = ['INACTIVE', 'SYN_SENT', 'SYN_ACK_SENT', 'PARTIAL', 'ESTABLISHED', 'CLOSED', 'RESET'];
  const END_REASONS = ['end_of_capture', 'reused', 'timeout'] as const;
  const KINDS = ['refused', 'reset', 'connect-timeout', 'half-close-stall', 'unanswered-request', 'zero-window', 'retransmissions'];
  const REASONS = ['NO_SOCKET', 'TCP_ABORT_ON_CLOSE', 'UNKNOWN', 'NONE', 'TCP_INVALID_ACK_SEQUENCE'];
  const ERRNOS = ['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EAGAIN'];
  const CALLS = ['connect', 'recv', 'send', 'accept', 'close'];
  const ADVICE = ['Check interface errors and drops (ip -s link, ethtool -S) and congestion on the path.', 'listen', 'Capture with a bigger buffer (tcpdump -B) or a filter; watch "dropped by kernel".'];

  /** A vocabulary word most of the time, any string sometimes (word() must handle both). */
  function word(g: Gen, vocabulary: readonly string[]): string {
    return g.chance(0.9) ? g.pick(vocabulary) : randomString(g, g.int(20));
  }

  function uint(g: Gen): number {
    return g.pick([0, 1, g.int(100), g.int(65536), g.int(2 ** 31), g.int(2 ** 32), 2 ** 32 - 1]);
  }

  function micro(t: number): number {
    return Math.round(t * 1e6) / 1e6;
  }

  function timestamp(g: Gen): number {
    return g.chance(0.9) ? micro(1709251200 + g.next() * 4e8) : randomNumber(g);
  }

  function address(g: Gen, v4: boolean): string {
    if (v4) return `${g.int(256)}.${g.int(256)}.${g.int(256)}.${g.int(256)}`;
    return g.chance(0.5) ? `2001:db8::${g.int(65536).toString(16)}` : `fe80::${g.int(65536).toString(16)}:${g.int(65536).toString(16)}`;
  }

  function calls(g: Gen): CallOutcome[] {
    const out: CallOutcome[] = [];
    for (let k = g.int(3); k > 0; k--) {
      const call = word(g, CALLS);
      const errno = g.chance(0.5) ? null : word(g, ERRNOS);
      out.push(g.chance(0.5) ? { call, errno, note: randomString(g, g.int(80)) } : { call, errno });
    }
    return out;
  }

  /** A finding as makeFinding builds it (every field, in its order), or sometimes a hand-made one. */
  function finding(g: Gen): Finding {
    const frames: number[] = [];
    for (let k = g.int(5); k > 0; k--) frames.push(g.chance(0.95) ? g.range(1, 2 ** 31) : randomNumber(g));
    frames.sort((a, b) => a - b);
    if (g.chance(0.1)) {
      // Without the optional fields: written by JSON.stringify itself.
      return { kind: word(g, KINDS), by: g.pick(['orig', 'resp', 'network'] as const), reason: word(g, REASONS), confidence: randomNumber(g), frames, errno: { orig: null, resp: g.pick(ERRNOS) }, summary: randomString(g), advice: randomString(g) };
    }
    const cs = { orig: calls(g), resp: calls(g) };
    const f: Finding = {
      kind: word(g, KINDS),
      by: g.pick(['orig', 'resp', 'network'] as const),
      reason: word(g, REASONS),
      confidence: g.chance(0.9) ? Math.round(g.next() * 100) / 100 : randomNumber(g),
      frames,
      errno: { orig: cs.orig.find((c) => c.errno !== null)?.errno ?? null, resp: cs.resp.find((c) => c.errno !== null)?.errno ?? null },
      summary: randomString(g, g.chance(0.7) ? g.range(65, 300) : stringLength(g)),
      // Constant advice (cached as a word after its first time) or advice of its own.
      advice: g.chance(0.5) ? g.pick(ADVICE) : randomString(g, g.range(40, 250)),
      state: g.chance(0.5) ? null : word(g, ['TCP_SYN_SENT', 'TCP_CLOSE_WAIT', 'TCP_ESTABLISHED', 'TCP_SYN_RECV']),
      candidates: Array.from({ length: g.int(3) }, () => word(g, REASONS)),
      calls: cs,
      time: g.chance(0.9) ? timestamp(g) : randomNumber(g),
      rst_text: g.chance(0.8) ? null : randomString(g),
    };
    if (g.chance(0.2)) f.continues = Array.from({ length: g.range(0, 3) }, () => uint(g));
    return f;
  }

  function directionStats(g: Gen): DirectionStats {
    return { retrans_segs: uint(g), retrans_bytes: uint(g), out_of_order_segs: uint(g), zero_window_segs: uint(g), window_full_segs: uint(g), missed_bytes: uint(g) };
  }

  /** A record as records.ts (toConnectionRecord) builds it: the same fields in the same order. */
  function record(g: Gen, id: number): ConnectionRecord {
    const v4 = g.chance(0.7);
    const first = timestamp(g);
    const hasDuration = g.chance(0.8);
    const plain = g.chance(0.4);
    return {
      type: 'connection',
      version: g.chance(0.9) ? 1 : g.pick([0, 2, 17]),
      id: g.chance(0.9) ? id : uint(g),
      orig: { addr: address(g, v4), port: g.int(65536) },
      resp: { addr: address(g, v4), port: g.int(65536) },
      ip_version: v4 ? 4 : 6,
      tunnel_depth: g.chance(0.8) ? 0 : g.range(1, 3),
      first,
      last: g.chance(0.9) ? micro(first + g.next() * 100) : randomNumber(g),
      duration: hasDuration ? (g.chance(0.9) ? micro(g.next() * 300) : randomNumber(g)) : null,
      conn_state: g.pick(CONN_STATES),
      history: Array.from({ length: g.int(12) }, () => g.pick([...'ShADadFfRrTtWwCcGgIiQq^'])).join(''),
      orig_pkts: uint(g),
      resp_pkts: uint(g),
      orig_bytes: hasDuration ? uint(g) : null,
      resp_bytes: hasDuration ? uint(g) : null,
      missed_bytes: uint(g),
      orig_ip_bytes: uint(g),
      resp_ip_bytes: uint(g),
      orig_state: word(g, ENDPOINT_STATES),
      resp_state: word(g, ENDPOINT_STATES),
      packets: { first: uint(g), last: uint(g) },
      end_reason: g.pick(END_REASONS),
      weirds: plain || g.chance(0.6) ? [] : Array.from({ length: g.range(1, 3) }, () => randomString(g, g.int(30))),
      icmp: plain || g.chance(0.7) ? null : { count: uint(g), first_frame: uint(g), type: g.int(256), code: g.int(256) },
      stats: plain || g.chance(0.5) ? null : { orig: directionStats(g), resp: directionStats(g) },
      findings: plain ? [] : Array.from({ length: g.int(4) }, () => finding(g)),
    };
  }

  it('writeConnectionJson writes JSON.stringify of random valid records, one after another, through takes and growth', () => {
    // One long-lived encoder, as analyze --json keeps (its word cache fills up, past MAX_WORDS with
    // the advice of its own), and the scratch one behind connectionToJson.
    for (const initial of [1, 4096]) {
      const e = new JsonEncoder(initial);
      const chunks: Buffer[] = [];
      let want = '';
      for (let i = 0; i < 2500; i++) {
        const g = new Gen(4 + initial, i);
        const r = record(g, i + 1);
        const json = JSON.stringify(r);
        const from = e.pos;
        writeConnectionJson(e, r);
        const got = written(e, from);
        // Bytes, not decoded text: an ill-formed sequence would decode to U+FFFD and could hide.
        if (!got.equals(utf8(json))) assert.equal(got.toString('utf8'), json, `writeConnectionJson (initial size ${initial}): ${where('records', i, r)}`);
        assert.ok(got.equals(utf8(json)), `writeConnectionJson bytes (initial size ${initial}): ${where('records', i, r)}`);
        e.newline();
        want += `${json}\n`;
        if (i % 13 === 0) assert.equal(connectionToJson(r), json, `connectionToJson: ${where('records', i, r)}`);
        if (g.chance(0.1)) chunks.push(e.take());
      }
      chunks.push(e.take());
      const all = Buffer.concat(chunks);
      if (!all.equals(utf8(want))) assert.equal(all.toString('utf8'), want, `the stream of records (initial size ${initial}), seed ${SEED}`);
      assert.ok(all.equals(utf8(want)), `the stream of records, bytes (initial size ${initial}), seed ${SEED}`);
    }
  });
});
