import { PacketAnomaly } from '../../src/decode/anomaly-codes.js';
import { describe, expect, it } from 'vitest';
import { formatIpv4, formatIpv6, parseIpv4, parseIpv6 } from '../../src/decode/ip.js';
import { parseEthernet, parseLink } from '../../src/decode/link.js';
import { PacketView } from '../../src/decode/packet-view.js';
import { parsePacket } from '../../src/decode/parse.js';
import { formatSrcIp, formatDstIp } from '../../src/decode/ip.js';
import { ACK, PSH, SYN, ether, ipv4, ipv6, nullLink, sll, sll2, tcp, udp } from '../helpers/packets.js';

const payload = new Uint8Array([1, 2, 3, 4, 5]);
const tcpSeg = tcp(40000, 16509, 0xfffffff0, 0x01020304, PSH | ACK, payload, [2, 4, 5, 0xb4]); // MSS option
const v4 = ipv4('10.0.0.1', '10.0.0.2', 6, tcpSeg);

function parse(data: Uint8Array, linkType = 1, wire = data.length): { pv: PacketView; err: string | null } {
  const pv = new PacketView();
  return { pv, err: parsePacket(data, linkType, wire, pv)?.code ?? null };
}

function expectTcp(pv: PacketView, l3: number): void {
  expect(pv.l3Offset).toBe(l3);
  expect(pv.ipVersion).toBe(4);
  expect(formatSrcIp(pv)).toBe('10.0.0.1');
  expect(formatDstIp(pv)).toBe('10.0.0.2');
  expect(pv.ipProto).toBe(6);
  expect(pv.srcPort).toBe(40000);
  expect(pv.dstPort).toBe(16509);
  expect(pv.seq).toBe(0xfffffff0);
  expect(pv.ack).toBe(0x01020304);
  expect(pv.tcpFlags).toBe(PSH | ACK);
  expect(pv.payloadOffset).toBe(l3 + 20 + 24);
  expect(pv.payloadLength).toBe(5);
  expect(pv.payloadWireLength).toBe(5);
}

describe('link layers', () => {
  it('Ethernet II', () => {
    const { pv, err } = parse(ether(0x0800, v4));
    expect(err).toBeNull();
    expect(pv.vlanDepth).toBe(0);
    expectTcp(pv, 14);
  });
  it('802.1Q single tag', () => {
    const { pv, err } = parse(ether(0x0800, v4, [{ tpid: 0x8100, vid: 42 }]));
    expect(err).toBeNull();
    expect(pv.vlanDepth).toBe(1);
    expect(pv.vlanId).toBe(42);
    expectTcp(pv, 18);
  });
  it('QinQ 0x88a8 + 0x8100 (inner VLAN id reported)', () => {
    const { pv, err } = parse(ether(0x0800, v4, [{ tpid: 0x88a8, vid: 100 }, { tpid: 0x8100, vid: 7 }]));
    expect(err).toBeNull();
    expect(pv.vlanDepth).toBe(2);
    expect(pv.vlanId).toBe(7);
    expectTcp(pv, 22);
  });
  it('too many tags and truncated tags are errors', () => {
    const tags = Array.from({ length: 9 }, () => ({ tpid: 0x8100, vid: 1 }));
    expect(parse(ether(0x0800, v4, tags)).err).toBe('PACKET_VLAN_DEPTH');
    expect(parse(ether(0x0800, v4, [{ tpid: 0x8100, vid: 1 }]).subarray(0, 16)).err).toBe('PACKET_TRUNCATED_VLAN');
  });
  it('802.3 length-framed frames are not IP', () => {
    const pv = new PacketView();
    const f = ether(0x0026, new Uint8Array(38));
    expect(parseEthernet(f, 0, pv)).toBeNull();
    expect(pv.etherType).toBe(0);
  });
  it('Linux SLL (113) and SLL2 (276)', () => {
    const a = parse(sll(0x0800, v4), 113);
    expect(a.err).toBeNull();
    expectTcp(a.pv, 16);
    const b = parse(sll2(0x0800, v4), 276);
    expect(b.err).toBeNull();
    expectTcp(b.pv, 20);
    expect(parse(sll2(0x0800, v4).subarray(0, 19), 276).err).toBe('PACKET_TRUNCATED_SLL2');
  });
  it('raw IP (101) and BSD null (0) in both byte orders', () => {
    const r = parse(v4, 101);
    expect(r.err).toBeNull();
    expectTcp(r.pv, 0);
    const le = parse(nullLink(2, v4, true), 0);
    expect(le.err).toBeNull();
    expectTcp(le.pv, 4);
    const be = parse(nullLink(2, v4, false), 0);
    expect(be.err).toBeNull();
    expectTcp(be.pv, 4);
    const v6 = parse(nullLink(30, ipv6('fe80::1', 'fe80::2', 17, udp(1, 2, payload))), 0);
    expect(v6.err).toBeNull();
    expect(v6.pv.ipVersion).toBe(6);
  });
  it('unknown link type is an error', () => {
    expect(parseLink(v4, 9999, new PacketView())).toBe(PacketAnomaly.UNSUPPORTED_LINK_TYPE);
  });
});

describe('IPv4', () => {
  it('skips options by IHL', () => {
    const withOpts = ipv4('10.0.0.1', '10.0.0.2', 6, tcpSeg, { options: [1, 1, 1, 0] });
    const { pv, err } = parse(withOpts, 101);
    expect(err).toBeNull();
    expect(pv.l4Offset).toBe(24);
    expect(pv.payloadLength).toBe(5);
  });
  it('ignores Ethernet padding after the total length', () => {
    const small = ether(0x0800, ipv4('10.0.0.1', '10.0.0.2', 17, udp(5, 6, new Uint8Array([9]))));
    const padded = new Uint8Array(60);
    padded.set(small);
    const { pv, err } = parse(padded);
    expect(err).toBeNull();
    expect(pv.payloadLength).toBe(1);
  });
  it('flags fragments: MF set, or a non-zero offset; DF alone is not a fragment', () => {
    expect(parse(ipv4('1.2.3.4', '5.6.7.8', 6, tcpSeg, { flagsFrag: 0x2000 }), 101).pv.fragment).toBe(true);
    expect(parse(ipv4('1.2.3.4', '5.6.7.8', 6, tcpSeg, { flagsFrag: 0x0010 }), 101).pv.fragment).toBe(true);
    expect(parse(ipv4('1.2.3.4', '5.6.7.8', 6, tcpSeg, { flagsFrag: 0x4000 }), 101).pv.fragment).toBe(false);
  });
  it('snaplen-cut payload keeps its wire length', () => {
    const frame = ether(0x0800, v4);
    const cut = frame.subarray(0, frame.length - 3);
    const { pv, err } = parse(cut, 1, frame.length);
    expect(err).toBeNull();
    expect(pv.payloadLength).toBe(2);
    expect(pv.payloadWireLength).toBe(5);
  });
  it('total length 0 (TSO super-packet) uses the frame length', () => {
    const tso = ipv4('10.0.0.1', '10.0.0.2', 6, tcpSeg, { totalLength: 0 });
    const { pv, err } = parse(tso, 101);
    expect(err).toBeNull();
    expect(pv.payloadWireLength).toBe(5);
  });
  it('bad headers are errors, never exceptions', () => {
    const pv = new PacketView();
    expect(parseIpv4(v4.subarray(0, 19), 0, 19, pv)).toBe(PacketAnomaly.TRUNCATED_IPV4);
    const bad = v4.slice(); bad[0] = 0x44;
    expect(parseIpv4(bad, 0, bad.length, pv)).toBe(PacketAnomaly.IPV4_HEADER_LENGTH);
    const tl = v4.slice(); tl[2] = 0; tl[3] = 10;
    expect(parseIpv4(tl, 0, tl.length, pv)).toBe(PacketAnomaly.IPV4_TOTAL_LENGTH);
  });
  it('formats addresses', () => {
    expect(formatIpv4(0xc0a80001)).toBe('192.168.0.1');
  });
});

describe('IPv6', () => {
  it('plain TCP', () => {
    const p = ipv6('2001:db8::1', '2001:db8::2', 6, tcpSeg);
    const { pv, err } = parse(ether(0x86dd, p));
    expect(err).toBeNull();
    expect(pv.ipVersion).toBe(6);
    expect(formatSrcIp(pv)).toBe('2001:db8::1');
    expect(formatDstIp(pv)).toBe('2001:db8::2');
    expect(pv.l4Offset).toBe(14 + 40);
    expect(pv.srcPort).toBe(40000);
    expect(pv.payloadLength).toBe(5);
  });
  it('skips hop-by-hop, destination options and routing headers', () => {
    const p = ipv6('fe80::1', 'fe80::2', 17, udp(546, 547, payload), [
      { type: 0, body: [1, 4, 0, 0, 0, 0] },
      { type: 60, body: [1, 12, ...new Array(12).fill(0)] },
      { type: 43, body: [0, 0, 0, 0, 0, 0] },
    ]);
    const { pv, err } = parse(p, 101);
    expect(err).toBeNull();
    expect(pv.ipProto).toBe(17);
    expect(pv.l4Offset).toBe(40 + 8 + 16 + 8);
    expect(pv.srcPort).toBe(546);
    expect(pv.payloadLength).toBe(5);
  });
  it('fragment header: a real fragment is flagged, an atomic one is not', () => {
    const frag = ipv6('fe80::1', 'fe80::2', 6, tcpSeg, [{ type: 44, body: [0, 1, 0, 0, 0, 9] }]); // M=1
    expect(parse(frag, 101).pv.fragment).toBe(true);
    const later = ipv6('fe80::1', 'fe80::2', 6, tcpSeg, [{ type: 44, body: [0, 0x10, 0, 0, 0, 9] }]); // offset 2
    expect(parse(later, 101).pv.fragment).toBe(true);
    const atomic = ipv6('fe80::1', 'fe80::2', 6, tcpSeg, [{ type: 44, body: [0, 0, 0, 0, 0, 9] }]);
    const a = parse(atomic, 101);
    expect(a.pv.fragment).toBe(false);
    expect(a.pv.srcPort).toBe(40000);
  });
  it('truncation is an error', () => {
    const p = ipv6('fe80::1', 'fe80::2', 6, tcpSeg);
    expect(parseIpv6(p.subarray(0, 39), 0, 39, new PacketView())).toBe(PacketAnomaly.TRUNCATED_IPV6);
    expect(parse(p.subarray(0, 50), 101).err).toBe('PACKET_TRUNCATED_TCP');
  });
  it('formats RFC 5952 text', () => {
    expect(formatIpv6(0x20010db8, 0, 0, 1)).toBe('2001:db8::1');
    expect(formatIpv6(0, 0, 0, 1)).toBe('::1');
    expect(formatIpv6(0x20010db8, 0x00010000, 0x00010000, 0x00010001)).toBe('2001:db8:1:0:1:0:1:1');
    expect(formatIpv6(0, 0, 0, 0)).toBe('::');
  });
});

describe('TCP / UDP', () => {
  it('rejects a data offset below 5 and truncated options', () => {
    const bad = v4.slice(); bad[20 + 12] = 0x40;
    expect(parse(bad, 101).err).toBe('PACKET_TCP_DATA_OFFSET');
    expect(parse(v4.subarray(0, 20 + 22), 101, v4.length).err).toBe('PACKET_TRUNCATED_TCP_OPTIONS');
  });
  it('UDP ports and payload', () => {
    const { pv, err } = parse(ipv4('10.0.0.1', '10.0.0.2', 17, udp(5353, 53, payload)), 101);
    expect(err).toBeNull();
    expect([pv.srcPort, pv.dstPort, pv.payloadOffset, pv.payloadLength]).toEqual([5353, 53, 28, 5]);
  });
  it('SYN flags', () => {
    const { pv } = parse(ipv4('10.0.0.1', '10.0.0.2', 6, tcp(1, 2, 100, 0, SYN)), 101);
    expect(pv.tcpFlags).toBe(SYN);
    expect(pv.payloadWireLength).toBe(0);
  });
});
