/**
 * The chat's framing and sanitising, as pure functions: input split at every byte, limits at
 * their exact edges, and every kind of terminal control sequence.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { broadcastAddress, decodeAnnouncement, encodeAnnouncement } from '../src/chat/discovery.js';
import { isPrintableAscii, LineFramer, nickProblem, parseServerLine, sanitizeLine, sanitizeText } from '../src/chat/protocol.js';
import { renderServerLine } from '../src/chat/render.js';

type Out = string | { overlong: number };

function frame(chunks: Buffer[], max: number): { out: Out[]; rest: string | null } {
  const out: Out[] = [];
  const f = new LineFramer(max, { line: (b) => out.push(b.toString('latin1')), overlong: (n) => out.push({ overlong: n }) });
  for (const c of chunks) f.push(c);
  const rest = f.end();
  return { out, rest: rest === null ? null : rest.toString('latin1') };
}

describe('LineFramer', () => {
  const input = Buffer.from('hello\r\nworld\n\nthis line is far too long for the limit\nok\r\nlast', 'latin1');
  const expected: Out[] = ['hello', 'world', '', { overlong: 'this line is far too long for the limit'.length }, 'ok'];

  it('gives the same lines however the input is split: at every byte, in pairs, and byte by byte', () => {
    const whole = frame([input], 16);
    assert.deepEqual(whole.out, expected);
    assert.equal(whole.rest, 'last');
    for (let i = 0; i <= input.length; i++) {
      for (let j = i; j <= input.length; j++) {
        const r = frame([input.subarray(0, i), input.subarray(i, j), input.subarray(j)], 16);
        assert.deepEqual(r.out, expected, `split at ${i} and ${j}`);
        assert.equal(r.rest, 'last', `split at ${i} and ${j}`);
      }
    }
    const bytes = frame([...input].map((b) => Buffer.from([b])), 16);
    assert.deepEqual(bytes.out, expected);
  });

  it('accepts a line of exactly the limit, with LF or CRLF, and refuses one byte more', () => {
    assert.deepEqual(frame([Buffer.from('abcd\nabcd\r\nabcde\nabcde\r\nx\n')], 4).out, ['abcd', 'abcd', { overlong: 5 }, { overlong: 5 }, 'x']);
  });

  it('holds no more than the limit while skipping an over-long line, whatever its size', () => {
    const f = new LineFramer(8, { line: () => undefined, overlong: () => undefined });
    for (let i = 0; i < 1000; i++) {
      f.push(Buffer.alloc(1000, 0x61));
      assert.ok(f.bufferedBytes <= 9);
    }
    assert.equal(f.skipping, true);
  });

  it('does not return a last unfinished line that is over-long, and can discard one after a reset', () => {
    assert.equal(frame([Buffer.from('0123456789')], 4).rest, null);
    const f = new LineFramer(100, { line: () => undefined, overlong: () => undefined });
    f.push(Buffer.from('half a mess'));
    assert.equal(f.discard(), 11);
    assert.equal(f.end(), null);
  });
});

describe('sanitising', () => {
  const cases: Array<[string, string, string]> = [
    ['CSI colour', 'a\x1b[31mred\x1b[0m b', 'ared b'],
    ['CSI cursor movement and erase', '\x1b[2J\x1b[H\x1b[10;20Hx\x1b[?25l', 'x'],
    ['OSC title ended by BEL', 'x\x1b]0;pwned\x07y', 'xy'],
    ['OSC 8 hyperlink ended by ST', '\x1b]8;;http://evil\x1b\\click\x1b]8;;\x1b\\', 'click'],
    ['OSC 52 clipboard write', '\x1b]52;c;cm0gLXJmIH4=\x07ok', 'ok'],
    ['unterminated OSC swallows the rest', 'before\x1b]0;title never ends', 'before'],
    ['DCS string', 'a\x1bPq#0;2;0;0;0\x1b\\b', 'ab'],
    ['two-byte escapes (RIS, charset)', 'a\x1bcb\x1b(0c', 'abc'],
    ['lone ESC at the end', 'abc\x1b', 'abc'],
    ['C1 CSI (U+009B) with parameters', 'a\u009b31mb', 'ab'],
    ['C1 OSC (U+009D) up to C1 ST', 'a\u009d0;t\u009cb', 'ab'],
    ['other C1 controls', 'a\u0085b\u008dc', 'abc'],
    ['C0 controls, BEL, backspace, CR', 'a\x07b\x08c\rd\x00e', 'abcde'],
    ['tab becomes a space', 'a\tb', 'a b'],
    ['DEL', 'a\x7fb', 'ab'],
    ['bidi override and isolates (Trojan Source)', 'abc\u202edcba\u2066x\u2069', 'abcdcbax'],
    ['line separator and BOM', 'a\u2028b\ufeffc', 'abc'],
    ['UTF-8 text stays', 'grüße 日本 🙂', 'grüße 日本 🙂'],
  ];
  for (const [what, input, want] of cases) {
    it(`removes ${what}`, () => assert.equal(sanitizeText(input), want));
  }

  it('decodes invalid UTF-8 to U+FFFD, so a raw 0x9b byte cannot act as an 8-bit CSI', () => {
    const out = sanitizeLine(Buffer.from([0x61, 0x9b, 0x33, 0x31, 0x6d, 0x62, 0xff, 0xc3]));
    assert.equal(out.toString('utf8'), 'a\ufffd31mb\ufffd\ufffd');
    assert.ok(!out.includes(0x1b) && !out.includes(0x9b));
  });

  it('passes printable ASCII through as the same bytes', () => {
    const b = Buffer.from('plain text 123 <>');
    assert.equal(isPrintableAscii(b), true);
    assert.equal(sanitizeLine(b), b);
  });

  it('leaves no ESC, C0 or C1 control in anything, for every byte value at every position', () => {
    for (let v = 0; v < 256; v++) {
      for (const tpl of [[v], [0x1b, v], [0x1b, 0x5b, v], [0xc2, v], [v, 0x1b], [0x1b, 0x5d, v, 0x07]]) {
        const s = sanitizeLine(Buffer.from([0x61, ...tpl, 0x62])).toString('utf8');
        assert.doesNotMatch(s, /[\x00-\x1f\x7f-\x9f]/, `input ${JSON.stringify(tpl)} gave ${JSON.stringify(s)}`);
      }
    }
  });
});

describe('nicknames and server lines', () => {
  it('accepts ordinary nicknames and says why others are refused', () => {
    assert.equal(nickProblem('alice_2'), null);
    assert.equal(nickProblem('A-b'), null);
    assert.match(nickProblem('')!, /empty/);
    assert.match(nickProblem('has space')!, /letters, digits/);
    assert.match(nickProblem('x'.repeat(17))!, /1 to 16/);
    assert.match(nickProblem('\x1b[31m')!, /letters, digits/);
    assert.match(nickProblem('Server')!, /reserved/);
    assert.match(nickProblem('guest7')!, /given out by the server/);
  });

  it('parses every kind of server line', () => {
    assert.deepEqual(parseServerLine('<bob> hi <there>'), { kind: 'message', from: 'bob', text: 'hi <there>' });
    assert.deepEqual(parseServerLine('<@lab host> hello'), { kind: 'console', from: 'lab host', text: 'hello' });
    assert.deepEqual(parseServerLine('* bob waves'), { kind: 'action', from: 'bob', text: 'waves' });
    assert.deepEqual(parseServerLine('*bob* psst'), { kind: 'private', from: 'bob', text: 'psst' });
    assert.deepEqual(parseServerLine('-> *bob* psst'), { kind: 'private-sent', to: 'bob', text: 'psst' });
    assert.deepEqual(parseServerLine('*** bob joined'), { kind: 'notice', text: 'bob joined' });
    assert.deepEqual(parseServerLine('<user5> from ncat'), { kind: 'message', from: 'user5', text: 'from ncat' });
    assert.deepEqual(parseServerLine('whatever'), { kind: 'other', text: 'whatever' });
  });

  it('renders with a timestamp, and colours only when asked', () => {
    const now = new Date(2024, 0, 1, 9, 5, 7);
    assert.equal(renderServerLine('<bob> hi', { colour: false, now }), '09:05:07 <bob> hi');
    const coloured = renderServerLine('<bob> hi', { colour: true, now });
    assert.match(coloured, /^09:05:07 <\x1b\[\d+mbob\x1b\[0m> hi$/);
    assert.equal(renderServerLine('<bob> hi', { colour: true, now }), coloured, 'the same nick gets the same colour');
  });
});

describe('discovery datagrams', () => {
  it('round-trips an announcement and rejects anything else', () => {
    const a = { name: 'kitchen', port: 5555, clients: 3, maxClients: 1024 };
    assert.deepEqual(decodeAnnouncement(encodeAnnouncement(a)), a);
    assert.equal(decodeAnnouncement(Buffer.from('hello')), null);
    assert.equal(decodeAnnouncement(Buffer.from('{"tcpsleuth-chat":2,"name":"x","port":1}')), null);
    assert.equal(decodeAnnouncement(Buffer.from('{"tcpsleuth-chat":1,"name":"x","port":70000}')), null);
    assert.equal(decodeAnnouncement(Buffer.from('{"tcpsleuth-chat":1,"name":5,"port":1}')), null);
    assert.equal(decodeAnnouncement(Buffer.alloc(600, 0x20)), null);
  });

  it('sanitises the announced name, which is bytes from the wire', () => {
    const d = decodeAnnouncement(Buffer.from(JSON.stringify({ 'tcpsleuth-chat': 1, name: 'evil\u001b]0;x\u0007name', port: 1 })));
    assert.equal(d?.name, 'evilname');
  });

  it('computes directed broadcast addresses', () => {
    assert.equal(broadcastAddress('10.201.0.1', '255.255.255.0'), '10.201.0.255');
    assert.equal(broadcastAddress('192.168.1.77', '255.255.254.0'), '192.168.1.255');
    assert.equal(broadcastAddress('127.0.0.1', '255.0.0.0'), '127.255.255.255');
  });
});
