/** The hand-written JSON serialiser must say exactly what JSON.stringify says, for every field shape. */
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { it } from 'node:test';
import { analyze } from '../src/analyze/analyze.js';
import type { ConnectionRecord } from '../src/analyze/records.js';
import { connectionToJson } from '../src/report/json.js';
import { JsonEncoder, literal } from '../src/report/json-encoder.js';
import { conformanceDir } from './helpers/paths.js';

it('connectionToJson equals JSON.stringify on every connection of the conformance traces', async () => {
  const dir = join(conformanceDir, 'zeek', 'traces');
  let n = 0;
  for (const t of readdirSync(dir)) {
    for await (const r of analyze(join(dir, t), { verifyChecksums: true })) {
      if (r.type !== 'connection') continue;
      assert.equal(connectionToJson(r), JSON.stringify(r), `${t} #${r.id}`);
      n++;
    }
  }
  assert.ok(n > 100);
});

it('handles the optional shapes: nulls, weirds, ICMP, stats, findings, IPv6', () => {
  const r: ConnectionRecord = {
    type: 'connection', version: 1, id: 7,
    orig: { addr: '2001:db8::1', port: 1 }, resp: { addr: '2001:db8::2', port: 2 },
    ip_version: 6, tunnel_depth: 1, first: 1.5, last: 2.000001, duration: null,
    conn_state: 'REJ', history: 'Sr', orig_pkts: 1, resp_pkts: 1, orig_bytes: null, resp_bytes: null,
    missed_bytes: 0, orig_ip_bytes: 60, resp_ip_bytes: 40, orig_state: 'SYN_SENT', resp_state: 'RESET',
    packets: { first: 1, last: 2 }, end_reason: 'end_of_capture', weirds: ['SYN_seq_jump', 'x"y'],
    icmp: { count: 2, first_frame: 3, type: 3, code: 3 },
    stats: {
      orig: { retrans_segs: 2, retrans_bytes: 2896, out_of_order_segs: 1, zero_window_segs: 0, window_full_segs: 3, missed_bytes: 0 },
      resp: { retrans_segs: 0, retrans_bytes: 0, out_of_order_segs: 0, zero_window_segs: 4, window_full_segs: 0, missed_bytes: 1448 },
    },
    findings: [{ kind: 'refused', by: 'resp', reason: 'NO_SOCKET', confidence: 0.9, frames: [2], errno: { orig: 'ECONNREFUSED', resp: null }, summary: 'a "quoted" \\ line', advice: 'listen' }],
  };
  assert.equal(connectionToJson(r), JSON.stringify(r));
  assert.deepEqual(JSON.parse(connectionToJson(r)), r);
  // The writer spells common shapes with literals of their own (version 1, IPv4 without a
  // tunnel, nothing after end_reason): every mix of them and the general case.
  for (let shape = 0; shape < 64; shape++) {
    const v: ConnectionRecord = {
      ...r,
      version: shape & 1 ? 1 : 2,
      ip_version: shape & 2 ? 4 : 6,
      tunnel_depth: shape & 4 ? 0 : 2,
      weirds: shape & 8 ? [] : r.weirds,
      icmp: shape & 16 ? null : r.icmp,
      stats: shape & 32 ? null : r.stats,
    };
    for (const findings of [[], r.findings]) {
      const x = { ...v, findings };
      assert.equal(connectionToJson(x), JSON.stringify(x), `shape ${shape}, ${findings.length} findings`);
    }
  }
});

it('the byte encoder spells strings and numbers as JSON.stringify does', () => {
  const e = new JsonEncoder(8); // small, so growing is exercised too
  const strings = [
    '', 'plain', 'a "quoted" \\ back\\slash', '\u0000\u0001\b\t\n\u000b\f\r\u001f\u007f', 'é ü — × …', '日本語', '😀 pair', 'lone \ud800 high',
    'lone \udc00 low', 'end \ud83d', '\udc00\ud800', 'U+2028 \u2028 U+2029 \u2029', '\u202e bidi',
  ];
  // Random strings over an alphabet full of edge cases.
  const alphabet = ['a', '"', '\\', '\n', '\u0000', '\u001f', 'é', '€', '\ud83d', '\ude00', '\ud800', '\udfff', '\uffff', ' '];
  let seed = 12345;
  const rand = (n: number): number => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return seed % n;
  };
  for (let i = 0; i < 1000; i++) {
    let s = '';
    // Short strings take the encoder's own loop, long ones (over 64 units) V8's escaping.
    for (let k = rand(i % 2 === 0 ? 20 : 200); k > 0; k--) s += alphabet[rand(alphabet.length)];
    strings.push(s);
  }
  // Long strings (sentences) are escaped run by run: escapes first, last, back to back, pairs
  // kept whole, lone surrogates at either end.
  const pad = 'x'.repeat(70);
  strings.push(
    `"${pad}"`, `\\${pad}\\`, `${pad}""\\\n\u0000`, `\ud83d\ude00${pad}\ud83d\ude00`, `\ud800${pad}\udfff`,
    `${pad}\ud83d`, `\udc00${pad}`, `${pad}\ud83d"`, `é${pad}"€"日本`, `${pad}\u001f\b\t\f\r\u007f\u2028`,
  );
  // Long sentences with nothing to escape are written as they are.
  const plain = ['a', 'é', '€', ' ', '日', '–', '\u007f', '\uffff'];
  for (let i = 0; i < 200; i++) {
    let s = '';
    for (let k = 65 + rand(300); k > 0; k--) s += plain[rand(plain.length)];
    strings.push(s);
  }
  for (const s of strings) {
    e.reset();
    e.str(s);
    assert.equal(e.toString(), JSON.stringify(s), JSON.stringify(s));
  }
  const numbers = [
    0, -0, 1, 9, 10, 99, 100, 101, 12345, 999999, 1000000, 2147483647, 2147483648, 3000000009, 4294967295, 4294967296, -1, -2147483648,
    0.5, 0.1, 0.000001, 0.00001, 0.999999, 1.000001, 10.5, 1709251200.030743, 1709251200.1, 2147483647.5, 2147483648.000001,
    4294967295.999999, -0.5, -1709251200.25, 1e21, 1e-7, 123.456, NaN, Infinity, -Infinity, Number.MAX_SAFE_INTEGER, 2 ** 53 + 2,
  ];
  // Microsecond timestamps and durations as records hold them, and other fractions.
  for (let i = 0; i < 20000; i++) {
    numbers.push(Math.round((1709251200 + rand(400000000) + rand(1000000) / 1e6) * 1e6) / 1e6);
    numbers.push(Math.round(rand(100000) * 1.37e-3 * 1e6) / 1e6);
    numbers.push(rand(1000000) / 7, rand(100) / 100, 4294967295 + rand(1000) / 1000);
  }
  for (const n of numbers) {
    e.reset();
    e.num(n);
    assert.equal(e.toString(), JSON.stringify(n), String(n));
  }
  e.reset();
  e.raw('x € 😀 y');
  assert.equal(e.toString(), 'x € 😀 y');
  // Words are encoded once, then copied: the copy must survive the buffer growing and being
  // overwritten, and say what str says, escapes included.
  const words = strings.slice(0, 40);
  for (let round = 0; round < 3; round++) {
    e.reset();
    for (const w of words) {
      e.word(w);
      e.lit(literal(','));
    }
    e.wordOrNull(null);
    assert.equal(e.toString(), `${words.map((w) => JSON.stringify(w)).join(',')},null`, `round ${round}`);
  }
  assert.throws(() => literal('"é"'), /not printable ASCII/);
  // Literals are copied four bytes at a time, the last word's padding past their end included:
  // whatever follows must overwrite it, through every length and buffer growth.
  const small = new JsonEncoder(8);
  let expected = '';
  for (let n = 0; n < 40; n++) {
    const text = 'abcdefghijklmnopqrstuvwxyz0123456789{}[]'.slice(0, n);
    small.lit(literal(text));
    small.num(n);
    expected += `${text}${n}`;
  }
  assert.equal(small.toString(), expected);
  // Lines handed out in chunks (take) and the writes after them: nothing lost, nothing repeated.
  e.reset();
  const chunks: Buffer[] = [];
  const lines = strings.slice(0, 300);
  for (const [i, w] of lines.entries()) {
    e.str(w);
    e.newline();
    if (i % 7 === 0) chunks.push(e.take());
  }
  chunks.push(e.take());
  assert.equal(Buffer.concat(chunks).toString('utf8'), lines.map((w) => `${JSON.stringify(w)}\n`).join(''));
});

it('a taken buffer handed back is written into again, and nothing it handed out changes', () => {
  const e = new JsonEncoder(1 << 12);
  e.str('first chunk');
  const first = e.take();
  const firstBytes = Buffer.from(first);
  e.str('second chunk');
  const second = e.take();
  // Not handed back yet: the second chunk lives in memory of its own.
  assert.notEqual(second.buffer, first.buffer);
  assert.deepEqual(first, firstBytes);
  e.recycle(first);
  e.str('third');
  const third = e.take();
  assert.equal(third.buffer, first.buffer, 'the recycled buffer is used again');
  assert.equal(third.toString(), '"third"');
  assert.equal(second.toString(), '"second chunk"');
  // A buffer from Buffer's shared pool (small, with an offset) is never taken in.
  const pooled = Buffer.from('x');
  e.recycle(pooled);
  e.str('fourth');
  assert.notEqual(e.take().buffer, pooled.buffer);
});
