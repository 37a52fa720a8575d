import { describe, expect, it } from 'vitest';
import { PS_PER_S } from '../../src/core/time.js';
import { Dissector } from '../../src/dissect/dissector.js';
import type { Direction, FlowInfo } from '../../src/decode/types.js';
import type { Anomaly, ProtocolAnalyzer, ProtocolMessage, StreamDecoder } from '../../src/protocols/types.js';
import { Conversation } from './helpers/conversation.js';
import { ACK, MAC_A, PSH, SYN, arp, ether, ethTcp, icmpEcho, ipv4, ipv6, pkt, sll2, tcp, udp } from '../helpers/packets.js';
import { RecordingAnalyzer, collect } from './helpers/recorder.js';

const T0 = 1_700_000_000n * PS_PER_S;
const text = (s: string): Uint8Array => new TextEncoder().encode(s);
const anomalies = (msgs: ProtocolMessage[], kind: string): Anomaly[] =>
  msgs.filter((m): m is Anomaly => m.protocol === 'anomaly' && m.kind === kind);

describe('flows', () => {
  it('both directions map to one flow; client = SYN sender; ids from a counter', () => {
    const an = new RecordingAnalyzer('libvirt', [16509]);
    const { emit, msgs } = collect();
    const d = new Dissector(emit, { analyzers: [an] });
    const a = new Conversation({ cport: 40001 });
    const b = new Conversation({ cport: 40002, client: '10.0.0.3' });
    for (const p of [...a.handshake(T0), ...b.handshake(T0 + 10n)]) d.packet(p);
    d.packet(a.data(false, 0, text('hello'), T0 + 20n));
    expect([...d.flows].sort((x, y) => x.id - y.id).map((f) => [f.id, f.client.ip, f.client.port, f.server.ip, f.server.port, f.midstream])).toEqual([
      [1, '10.0.0.1', 40001, '10.0.0.2', 16509, false],
      [2, '10.0.0.3', 40002, '10.0.0.2', 16509, false],
    ]);
    expect(d.stats.flows.created).toBe(2);
    const syn = msgs.find((m) => m.protocol === 'tcp' && m.kind === 'syn')!;
    expect(syn).toMatchObject({ flowId: 1, dir: 'c2s', ts: T0, src: { ip: '10.0.0.1', port: 40001 }, dst: { ip: '10.0.0.2', port: 16509 } });
    expect(an.flows[0]!.bytes('s2c')).toEqual(text('hello'));
  });

  it('IPv6 flows and SLL2 link type', () => {
    const an = new RecordingAnalyzer('http', [8774]);
    const d = new Dissector(collect().emit, { analyzers: [an] });
    const c = '2001:db8::10', s = '2001:db8::20';
    d.packet(pkt(sll2(0x86dd, ipv6(c, s, 6, tcp(50000, 8774, 1, 0, SYN))), T0, 276));
    d.packet(pkt(sll2(0x86dd, ipv6(s, c, 6, tcp(8774, 50000, 9, 2, SYN | ACK))), T0 + 1n, 276));
    d.packet(pkt(sll2(0x86dd, ipv6(c, s, 6, tcp(50000, 8774, 2, 10, PSH | ACK, text('GET /')))), T0 + 2n, 276));
    expect(an.flows).toHaveLength(1);
    expect(an.flows[0]!.flow.client).toEqual({ ip: c, port: 50000 });
    expect(an.flows[0]!.bytes('c2s')).toEqual(text('GET /'));
  });

  it('a SYN-ACK first (SYN not captured): the receiver is the client', () => {
    const d = new Dissector(collect().emit, { analyzers: [] });
    const conv = new Conversation();
    d.packet(conv.synAck(T0));
    expect(d.flows[0]!.client.ip).toBe('10.0.0.1');
    expect(d.flows[0]!.midstream).toBe(false);
  });

  it('mid-stream guess: an analyzer port is the server, else the higher port is the client', () => {
    const d = new Dissector(collect().emit, { analyzers: [new RecordingAnalyzer('amqp', [5672])] });
    d.packet(pkt(ethTcp('10.0.0.9', 5672, '10.0.0.8', 60000, 1, 1, ACK, text('x')), T0));
    d.packet(pkt(ethTcp('10.0.0.9', 33000, '10.0.0.8', 44000, 1, 1, ACK, text('x')), T0));
    expect(d.flows.map((f) => [f.client.port, f.server.port, f.midstream])).toEqual([[60000, 5672, true], [44000, 33000, true]]);
  });

  it('idle timeout by wire time ends the flow (decoder end, holes declared)', () => {
    const an = new RecordingAnalyzer('libvirt', [16509]);
    const d = new Dissector(collect().emit, { analyzers: [an], flowTimeout: 10n * PS_PER_S });
    const conv = new Conversation();
    for (const p of conv.handshake(T0)) d.packet(p);
    d.packet(conv.data(true, 10, text('late'), T0 + 5n));
    d.tick(T0 + 9n * PS_PER_S);
    expect(d.stats.flows.active).toBe(1);
    d.tick(T0 + 11n * PS_PER_S);
    expect(d.stats.flows.active).toBe(0);
    expect(d.stats.flows.timedOut).toBe(1);
    expect(an.flows[0]!.events.map((e) => `${e.type}:${e.dir}:${e.len}`)).toEqual(['gap:c2s:10', 'data:c2s:4', 'end:c2s:0', 'end:s2c:0']);
    // Packets also drive expiry: a packet 200 s later expires nothing left, creates a new flow.
    d.packet(conv.data(true, 100, text('again'), T0 + 200n * PS_PER_S));
    expect(d.stats.flows.created).toBe(2);
  });

  it('bounded flow count: the least recently used flow is evicted and counted', () => {
    const { emit, msgs } = collect();
    const d = new Dissector(emit, { analyzers: [], maxFlows: 3 });
    for (let i = 0; i < 5; i++) d.packet(pkt(ethTcp('10.0.0.1', 1000 + i, '10.0.0.2', 80, 1, 0, SYN), T0 + BigInt(i)));
    expect(d.stats.flows.active).toBe(3);
    expect(d.stats.flows.evicted).toBe(2);
    expect(d.flows.map((f) => f.client.port)).toEqual([1002, 1003, 1004]);
    expect(anomalies(msgs, 'flow-memory').map((a) => a.flowId)).toEqual([1, 2]);
  });

  it('a new SYN on a closed 5-tuple starts a new flow', () => {
    const an = new RecordingAnalyzer('libvirt', [16509]);
    const d = new Dissector(collect().emit, { analyzers: [an] });
    const a = new Conversation({ cIsn: 1 });
    for (const p of a.handshake(T0)) d.packet(p);
    d.packet(a.fin(true, 0, T0 + 5n));
    d.packet(a.fin(false, 0, T0 + 6n, 1));
    d.packet(a.ack(true, 1, 1, T0 + 7n)); // straggler: same flow
    expect(d.stats.flows.created).toBe(1);
    const b = new Conversation({ cIsn: 99999 });
    for (const p of b.handshake(T0 + 100n)) d.packet(p);
    d.packet(b.data(true, 0, text('second'), T0 + 110n));
    expect(d.stats.flows.created).toBe(2);
    expect(an.flows[1]!.bytes('c2s')).toEqual(text('second'));
  });
});

describe('protocol selection', () => {
  it('by server port first, else by probe on the first client bytes', () => {
    const libvirt = new RecordingAnalyzer('libvirt', [16509]);
    const qemu = new RecordingAnalyzer('qemu', [], (b) => b[0] === 0x51 && b[1] === 0x45 && b[2] === 0x56 && b[3] === 0x4d);
    const { emit, msgs } = collect();
    const d = new Dissector(emit, { analyzers: [libvirt, qemu] });
    const mig = new Conversation({ sport: 49152, cport: 50000 });
    for (const p of mig.handshake(T0)) d.packet(p);
    d.packet(mig.data(false, 0, text('srv-first'), T0 + 5n)); // server speaks first: held
    d.packet(mig.data(true, 0, text('QEVM\0\0\0\x03'), T0 + 6n, 9));
    expect(qemu.flows).toHaveLength(1);
    expect(qemu.flows[0]!.bytes('s2c')).toEqual(text('srv-first'));
    expect(qemu.flows[0]!.bytes('c2s')).toEqual(text('QEVM\0\0\0\x03'));
    expect(qemu.flows[0]!.events[0]!.ts).toBe(T0 + 5n);
    const other = new Conversation({ sport: 7777 });
    for (const p of other.handshake(T0)) d.packet(p);
    for (let i = 0; i < 3; i++) d.packet(other.data(true, i * 3, text('zzz'), T0 + 10n + BigInt(i)));
    expect(anomalies(msgs, 'unknown-protocol')).toHaveLength(1);
    expect(d.stats.anomalies['unknown-protocol']).toBe(1);
    expect(d.stats.flows.byProtocol).toEqual({ qemu: 1 });
  });

  it('a decoder that throws: protocol-error, no more feeding, no throw out of packet()', () => {
    let calls = 0;
    const bad: ProtocolAnalyzer = {
      name: 'http', ports: [80], probe: () => false,
      create: (_f: FlowInfo): StreamDecoder => ({
        data: (_d: Direction) => { calls++; throw new Error('boom'); },
        gap: () => undefined, end: () => undefined,
      }),
    };
    const { emit, msgs } = collect();
    const d = new Dissector(emit, { analyzers: [bad] });
    const conv = new Conversation({ sport: 80 });
    for (const p of conv.handshake(T0)) d.packet(p);
    d.packet(conv.data(true, 0, text('GET'), T0 + 3n));
    d.packet(conv.data(true, 3, text(' / '), T0 + 4n));
    expect(calls).toBe(1);
    expect(anomalies(msgs, 'protocol-error')).toHaveLength(1);
  });
});

describe('datagrams and anomalies', () => {
  it('ICMP and ICMPv6 echo', () => {
    const { emit, msgs } = collect();
    const d = new Dissector(emit, { analyzers: [] });
    d.packet(pkt(ether(0x0800, ipv4('10.0.0.1', '10.0.0.2', 1, icmpEcho(8, 0x1234, 7))), T0));
    d.packet(pkt(ether(0x0800, ipv4('10.0.0.2', '10.0.0.1', 1, icmpEcho(0, 0x1234, 7))), T0 + 1n));
    d.packet(pkt(ether(0x0800, ipv4('10.0.0.2', '10.0.0.1', 1, icmpEcho(3, 0, 0))), T0 + 2n)); // unreachable: ignored
    d.packet(pkt(ether(0x86dd, ipv6('fe80::1', 'fe80::2', 58, icmpEcho(128, 5, 9))), T0 + 3n));
    d.packet(pkt(ether(0x86dd, ipv6('fe80::2', 'fe80::1', 58, icmpEcho(129, 5, 9))), T0 + 4n));
    d.packet(pkt(ether(0x0800, ipv4('10.0.0.1', '10.0.0.2', 1, icmpEcho(8, 1, 1).subarray(0, 5))), T0 + 5n));
    const echoes = msgs.filter((m) => m.protocol === 'icmp');
    expect(echoes.map((m) => [m.kind, 'id' in m ? m.id : 0, 'seq' in m ? m.seq : 0, m.src.ip, m.ts - T0])).toEqual([
      ['echo-request', 0x1234, 7, '10.0.0.1', 0n], ['echo-reply', 0x1234, 7, '10.0.0.2', 1n],
      ['echo-request', 5, 9, 'fe80::1', 3n], ['echo-reply', 5, 9, 'fe80::2', 4n],
    ]);
    expect(d.stats.anomalies['malformed-packet']).toBe(1);
    expect(d.stats.icmpPackets).toBe(5);
  });

  it('RARP request and gratuitous ARP announce the MAC; ordinary ARP does not', () => {
    const { emit, msgs } = collect();
    const d = new Dissector(emit, { analyzers: [] });
    const vm = [0x52, 0x54, 0x00, 0xab, 0xcd, 0xef];
    d.packet(pkt(ether(0x8035, arp(3, vm, '0.0.0.0', vm, '0.0.0.0')), T0));
    d.packet(pkt(ether(0x0806, arp(1, vm, '10.0.0.50', [0, 0, 0, 0, 0, 0], '10.0.0.50')), T0 + 1n));
    d.packet(pkt(ether(0x0806, arp(1, MAC_A, '10.0.0.1', [0, 0, 0, 0, 0, 0], '10.0.0.2')), T0 + 2n));
    d.packet(pkt(ether(0x0806, arp(1, MAC_A, '10.0.0.1', [0, 0, 0, 0, 0, 0], '10.0.0.2')).subarray(0, 30), T0 + 3n));
    expect(msgs.filter((m) => m.protocol === 'arp').map((m) => [m.kind, 'mac' in m ? m.mac : '', m.src.ip])).toEqual([
      ['rarp', '52:54:00:ab:cd:ef', '0.0.0.0'], ['gratuitous-arp', '52:54:00:ab:cd:ef', '10.0.0.50'],
    ]);
    expect(d.stats.arpPackets).toBe(3);
    expect(d.stats.anomalies['malformed-packet']).toBe(1);
  });

  it('fragments and malformed packets: first emitted at once, repeats aggregated, totals exact', () => {
    const { emit, msgs } = collect();
    const d = new Dissector(emit, { analyzers: [] });
    const frag = ether(0x0800, ipv4('10.0.0.1', '10.0.0.2', 17, udp(1, 2, new Uint8Array(20)), { flagsFrag: 0x2000 }));
    for (let i = 0; i < 5; i++) d.packet(pkt(frag, T0 + BigInt(i)));
    for (let i = 0; i < 3; i++) d.packet(pkt(frag.subarray(0, 20), T0 + 10n));
    expect(anomalies(msgs, 'ip-fragment').map((a) => a.count)).toEqual([1]);
    d.packet(pkt(frag, T0 + 2n * PS_PER_S)); // a second of wire time later: the aggregate is flushed
    expect(anomalies(msgs, 'ip-fragment').map((a) => a.count)).toEqual([1, 4]);
    d.finish();
    const sum = (k: string): number => anomalies(msgs, k).reduce((s, a) => s + a.count, 0);
    expect(sum('ip-fragment')).toBe(6);
    expect(sum('malformed-packet')).toBe(3);
    expect(d.stats.anomalies).toMatchObject({ 'ip-fragment': 6, 'malformed-packet': 3 });
    expect(d.stats.fragments).toBe(6);
  });

  it('UDP flows: counted once as unknown-protocol; non-IP counted as other', () => {
    const { emit, msgs } = collect();
    const d = new Dissector(emit, { analyzers: [] });
    for (let i = 0; i < 4; i++) d.packet(pkt(ether(0x0800, ipv4('10.0.0.1', '10.0.0.2', 17, udp(5353, 53, new Uint8Array(4)))), T0));
    d.packet(pkt(ether(0x88cc, new Uint8Array(40)), T0)); // LLDP
    expect(d.stats.udpPackets).toBe(4);
    expect(d.stats.otherPackets).toBe(1);
    expect(d.flows[0]!.transport).toBe('udp');
    expect(anomalies(msgs, 'unknown-protocol')).toHaveLength(1);
  });

  it('stats count messages per protocol and wire bytes', () => {
    const { emit, msgs } = collect();
    const d = new Dissector(emit, { analyzers: [] });
    const p = pkt(ether(0x0800, ipv4('10.0.0.1', '10.0.0.2', 1, icmpEcho(8, 1, 1))), T0);
    d.packet(p);
    d.packet({ ...p, data: p.data.subarray(0, 30), wireLength: 200 });
    expect(d.stats.packets).toBe(2);
    expect(d.stats.bytes).toBe(p.data.length + 200);
    expect(d.stats.decoded.icmp).toBe(1);
    expect(msgs).toHaveLength(d.stats.decoded.icmp! + (d.stats.decoded.anomaly ?? 0));
  });
});
