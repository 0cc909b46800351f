/**
 * Dissection: every link type through the registries down to TCP, tunnels, ICMP errors about
 * TCP, and the damage a dissector must survive (the same harness feeds each a cut frame).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { newFrame } from '../src/capture/frame.js';
import { Dissector, Verdict } from '../src/dissect/dissector.js';
import { formatAddress, parseAddress } from '../src/dissect/packet.js';
import { parseTcpOptions, synWindowScale } from '../src/dissect/tcp.js';
import { ethernet, ipPacket, tcpIpPacket, tcpSegment } from './helpers/capture-builder.js';

const seg = { src: '192.0.2.1', dst: '198.51.100.7', sport: 51000, dport: 443, seq: 7, ack: 9, flags: 'PA', payload: 'hello' };
const ip4 = tcpIpPacket(seg);
const ip6 = tcpIpPacket({ ...seg, src: '2001:db8::1', dst: '2001:db8::2' });

function dissect(linkType: number, bytes: number[], verifyChecksums = false) {
  const d = new Dissector({ verifyChecksums });
  const f = newFrame();
  f.number = 1;
  f.linkType = linkType;
  f.data = Buffer.from(bytes);
  f.offset = 0;
  f.capLen = bytes.length;
  f.origLen = bytes.length;
  const verdict = d.dissect(f);
  return { verdict, v: d.view };
}

function assertTcp(linkType: number, bytes: number[], v6 = false) {
  const { verdict, v } = dissect(linkType, bytes);
  assert.equal(verdict, Verdict.Tcp, `link type ${linkType}: ${v.malformed}`);
  assert.equal(v.srcPort, 51000);
  assert.equal(v.dstPort, 443);
  assert.equal(v.seq, 7);
  assert.equal(v.ack, 9);
  assert.equal(v.payloadLen, 5);
  assert.equal(formatAddress(v.src0, v.src1, v.src2, v.src3), v6 ? '2001:db8::1' : '192.0.2.1');
  assert.equal(formatAddress(v.dst0, v.dst1, v.dst2, v.dst3), v6 ? '2001:db8::2' : '198.51.100.7');
  return v;
}

const sll = (et: number, p: number[]) => [0, 0, 0, 1, 0, 6, 2, 0, 0, 0, 0, 1, 0, 0, et >> 8, et & 255, ...p];
const sll2 = (et: number, p: number[]) => [et >> 8, et & 255, 0, 0, 0, 0, 0, 2, 0, 1, 0, 6, 2, 0, 0, 0, 0, 1, 0, 0, ...p];

describe('link layers', () => {
  it('Ethernet, IPv4 and IPv6', () => {
    assertTcp(1, ethernet(ip4));
    assertTcp(1, ethernet(ip6), true);
  });
  it('802.1Q and 802.1ad (QinQ) VLAN tags', () => {
    assertTcp(1, ethernet(ip4, 0x0800, [0x8100]));
    assertTcp(1, ethernet(ip6, 0x86dd, [0x88a8, 0x8100]), true);
  });
  it('Linux cooked capture v1 and v2 (tcpdump -i any)', () => {
    assertTcp(113, sll(0x0800, ip4));
    assertTcp(276, sll2(0x86dd, ip6), true);
  });
  it('raw IP under every DLT/LINKTYPE number', () => {
    for (const lt of [12, 14, 101]) {
      assertTcp(lt, ip4);
      assertTcp(lt, ip6, true);
    }
    assertTcp(228, ip4);
    assertTcp(229, ip6, true);
  });
  it('BSD loopback in both byte orders, and OpenBSD LOOP', () => {
    assertTcp(0, [2, 0, 0, 0, ...ip4]);
    assertTcp(0, [0, 0, 0, 2, ...ip4]);
    assertTcp(0, [30, 0, 0, 0, ...ip6], true);
    assertTcp(0, [0, 0, 0, 24, ...ip6], true);
    assertTcp(108, [0, 0, 0, 2, ...ip4]);
  });
  it('MPLS and PPPoE', () => {
    assertTcp(1, ethernet([0, 0x10, 0x11, 64, ...ip4], 0x8847));
    assertTcp(1, ethernet([0x11, 0, 0, 1, 0, 0, 0, 0x21, ...ip4], 0x8864));
  });
  it('names an unknown link type instead of guessing', () => {
    const { verdict, v } = dissect(147, ip4);
    assert.equal(verdict, Verdict.Malformed);
    assert.equal(v.malformed, 'unknown_link_type');
  });
  it('counts other protocols as "other", not as errors', () => {
    assert.equal(dissect(1, ethernet([0, 1, 8, 0, 6, 4, 0, 1], 0x0806)).verdict, Verdict.Other); // ARP
    assert.equal(dissect(228, ipPacket('10.0.0.1', '10.0.0.2', 132, [1, 2, 3, 4])).verdict, Verdict.Other); // SCTP
  });
});

describe('network and transport layers', () => {
  it('skips IPv4 options', () => {
    assertTcp(228, ipPacket(seg.src, seg.dst, 6, tcpSegment(seg), { ipOptions: [1, 1, 1, 0] }));
  });
  it('walks the IPv6 extension-header chain', () => {
    const tcp = tcpSegment({ ...seg, src: '2001:db8::1', dst: '2001:db8::2' });
    // hop-by-hop (next: dest opts), destination options (next: TCP), each 8 bytes.
    const ext = [60, 0, 1, 4, 0, 0, 0, 0, 6, 0, 1, 4, 0, 0, 0, 0];
    const p = ipPacket('2001:db8::1', '2001:db8::2', 0, [...ext, ...tcp]);
    assertTcp(229, p, true);
  });
  it('notes IP fragments rather than misreading them', () => {
    const frag = ipPacket(seg.src, seg.dst, 6, tcpSegment(seg), { fragment: 0x2000 }); // more fragments
    assert.equal(dissect(228, frag).v.malformed, 'ip_fragment');
  });
  it('decodes every TCP option and keeps unknown ones as kind/length', () => {
    const opts = [2, 4, 5, 180, 1, 3, 3, 7, 4, 2, 8, 10, 0, 0, 0, 1, 0, 0, 0, 2, 5, 10, 0, 0, 0, 10, 0, 0, 0, 20, 30, 6, 1, 2, 3, 4];
    const b = Buffer.from(tcpSegment({ ...seg, options: opts }));
    const o = parseTcpOptions(b, 0, (b[12]! >> 4) * 4);
    assert.deepEqual(o, { mss: 1460, windowScale: 7, sackPermitted: true, tsVal: 1, tsEcr: 2, sack: [[10, 20]], unknown: [{ kind: 30, length: 6 }] });
    assert.equal(parseTcpOptions(Buffer.from([...b.subarray(0, 20), 2, 0, 0, 0]), 0, 24).malformed, true);
  });
  it('verifies checksums only when asked, and flags a bad one', () => {
    const good = tcpIpPacket(seg);
    const bad = [...good];
    bad[bad.length - 1] ^= 0xff;
    assert.equal(dissect(228, good, true).v.badChecksum, false);
    assert.equal(dissect(228, bad, true).v.badChecksum, true);
    assert.equal(dissect(228, bad, false).v.badChecksum, false);
    const badIp = [...good];
    badIp[10] ^= 0xff;
    assert.equal(dissect(228, badIp, true).v.malformed, 'bad_ip_checksum');
  });
});

describe('tunnels and ICMP', () => {
  it('unwraps IP-in-IP, IPv6-in-IPv4 and GRE', () => {
    assert.equal(assertTcp(228, ipPacket('10.1.1.1', '10.2.2.2', 4, ip4)).tunnelDepth, 1);
    assert.equal(assertTcp(228, ipPacket('10.1.1.1', '10.2.2.2', 41, ip6), true).tunnelDepth, 1);
    assert.equal(assertTcp(228, ipPacket('10.1.1.1', '10.2.2.2', 47, [0, 0, 0x08, 0x00, ...ip4])).tunnelDepth, 1);
  });
  it('unwraps Teredo on UDP 3544 and, off that port, only a consistent IPv6 packet with a Teredo address', () => {
    const teredo6 = tcpIpPacket({ ...seg, src: '2001:0:4137:9e50:8000:f12a:b9c8:2815', dst: '2001:4860:0:2001::68' });
    const udp = (sport: number, dport: number, payload: number[]) => [sport >> 8, sport & 255, dport >> 8, dport & 255, (8 + payload.length) >> 8, (8 + payload.length) & 255, 0, 0, ...payload];
    const onPort = dissect(228, ipPacket('10.0.0.1', '10.0.0.2', 17, udp(3544, 40000, teredo6)));
    assert.equal(onPort.verdict, Verdict.Tcp);
    assert.equal(onPort.v.tunnelDepth, 1);
    assert.equal(dissect(228, ipPacket('10.0.0.1', '10.0.0.2', 17, udp(32900, 40000, teredo6))).verdict, Verdict.Tcp);
    // Origin indication header in front.
    assert.equal(dissect(228, ipPacket('10.0.0.1', '10.0.0.2', 17, udp(3544, 40000, [0, 0, 1, 2, 3, 4, 5, 6, ...teredo6]))).verdict, Verdict.Tcp);
    // An ordinary IPv6 packet over some UDP port is not Teredo.
    assert.equal(dissect(228, ipPacket('10.0.0.1', '10.0.0.2', 17, udp(5000, 6000, ip6))).verdict, Verdict.Other);
  });
  it('attributes an ICMP port unreachable to the TCP segment it quotes', () => {
    const quoted = tcpIpPacket({ ...seg, flags: 'S' }).slice(0, 28);
    const icmp = [3, 3, 0, 0, 0, 0, 0, 0, ...quoted];
    const { verdict, v } = dissect(228, ipPacket('203.0.113.9', '192.0.2.1', 1, icmp));
    assert.equal(verdict, Verdict.IcmpAboutTcp);
    assert.equal(v.icmpType, 3);
    assert.equal(v.icmpCode, 3);
    assert.equal(formatAddress(v.icmpFrom0, v.icmpFrom1, v.icmpFrom2, v.icmpFrom3), '203.0.113.9');
    assert.equal(formatAddress(v.src0, v.src1, v.src2, v.src3), '192.0.2.1');
    assert.equal(v.srcPort, 51000);
    assert.equal(v.dstPort, 443);
  });
  it('attributes an ICMPv6 destination unreachable the same way', () => {
    const quoted = tcpIpPacket({ ...seg, src: '2001:db8::1', dst: '2001:db8::2', flags: 'S' }).slice(0, 48);
    const { verdict, v } = dissect(229, ipPacket('2001:db8::ff', '2001:db8::1', 58, [1, 4, 0, 0, 0, 0, 0, 0, ...quoted]));
    assert.equal(verdict, Verdict.IcmpAboutTcp);
    assert.equal(v.dstPort, 443);
  });
});

describe('every dissector survives every cut of a frame', () => {
  const frames: Array<[string, number, number[]]> = [
    ['ethernet/vlan/ipv4', 1, ethernet(ip4, 0x0800, [0x8100])],
    ['sll2/ipv6', 276, sll2(0x86dd, ip6)],
    ['null/ipv4', 0, [2, 0, 0, 0, ...ip4]],
    ['raw/gre/ipv4', 228, ipPacket('10.1.1.1', '10.2.2.2', 47, [0, 0, 0x08, 0x00, ...ip4])],
    ['raw/icmp', 228, ipPacket('203.0.113.9', '192.0.2.1', 1, [3, 3, 0, 0, 0, 0, 0, 0, ...ip4.slice(0, 28)])],
  ];
  for (const [name, lt, bytes] of frames) {
    it(name, () => {
      for (let n = 0; n < bytes.length; n++) {
        const { verdict, v } = dissect(lt, bytes.slice(0, n));
        assert.ok(verdict === Verdict.Malformed || verdict === Verdict.Other || verdict === Verdict.Tcp || verdict === Verdict.IcmpAboutTcp);
        if (verdict === Verdict.Malformed) assert.match(v.malformed, /^[a-z0-9_]+$/);
        if (verdict === Verdict.Tcp) assert.ok(v.capturedPayload <= v.payloadLen);
      }
    });
  }
});

describe('addresses', () => {
  it('formats and parses IPv4 and IPv6 (RFC 5952)', () => {
    for (const a of ['10.0.0.1', '::1', '2001:db8::1', 'fe80::1:2', '2001:db8:0:1:1:1:1:1', '::']) {
      const w = parseAddress(a)!;
      assert.equal(formatAddress(...w), a);
    }
    assert.equal(parseAddress('300.1.1.1'), null);
    assert.equal(parseAddress('1::2::3'), null);
  });
});

it('synWindowScale reads the shift exactly as parseTcpOptions does, on well-formed and broken option lists', () => {
  let seed = 7;
  const rand = (n: number): number => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return (seed >>> 8) % n;
  };
  const kinds = [0, 1, 2, 3, 4, 5, 8, 30, 254];
  let withScale = 0;
  for (let i = 0; i < 5000; i++) {
    const optLen = 4 * rand(11); // 0..40 bytes of options
    const b = Buffer.alloc(20 + optLen);
    for (let p = 20; p < b.length; ) {
      const kind = kinds[rand(kinds.length)]!;
      b[p++] = kind;
      if (kind <= 1 || p >= b.length) continue;
      const len = rand(5) === 0 ? rand(12) : kind === 3 ? 3 : kind === 8 ? 10 : kind === 2 ? 4 : 2 + rand(6);
      b[p++] = len;
      for (let k = 2; k < len && p < b.length; k++) b[p++] = rand(256);
    }
    const expected = parseTcpOptions(b, 0, b.length).windowScale ?? -1;
    if (expected >= 0) withScale++;
    assert.equal(synWindowScale(b, 0, b.length), expected, b.toString('hex'));
  }
  assert.ok(withScale > 100, `only ${withScale} option lists had a window scale`);
});
