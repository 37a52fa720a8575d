import { describe, expect, it } from 'vitest';
import { PS_PER_MS } from '../../src/core/time.js';
import { Dissector } from '../../src/dissect/dissector.js';
import type { Anomaly, ProtocolMessage } from '../../src/protocols/types.js';
import { ACK, FIN, PSH, RST, SYN, arp, ether, ethTcp, icmpEcho, ipv4, ipv6, nullLink, pkt, sll, sll2, tcp, udp } from '../helpers/packets.js';
import { type RecordedFlow, RecordingAnalyzer, patternBytes } from './helpers/recorder.js';
import { reportFuzzed } from '../helpers/fuzz-scale.js';
import { intsFrom, seededRandom } from '../helpers/rng.js';

const T0 = 1_700_000_000_000_000_000_000n;


const data = patternBytes(300, 9);
const seg = tcp(40000, 16509, 0xfffffff0, 77, PSH | ACK, data.subarray(0, 120), [2, 4, 5, 0xb4, 1, 3, 3, 7]);
const corpus: { bytes: Uint8Array; linkType: number }[] = [
  { bytes: ether(0x0800, ipv4('10.0.0.1', '10.0.0.2', 6, seg)), linkType: 1 },
  { bytes: ether(0x0800, ipv4('10.0.0.1', '10.0.0.2', 6, seg), [{ tpid: 0x88a8, vid: 5 }, { tpid: 0x8100, vid: 6 }]), linkType: 1 },
  { bytes: ether(0x86dd, ipv6('2001:db8::1', '2001:db8::2', 6, seg, [{ type: 0, body: [1, 4, 0, 0, 0, 0] }, { type: 44, body: [0, 0, 0, 0, 0, 1] }])), linkType: 1 },
  { bytes: sll(0x0800, ipv4('10.0.0.1', '10.0.0.2', 17, udp(1, 2, data.subarray(0, 40)), { options: [1, 1, 1, 0] })), linkType: 113 },
  { bytes: sll2(0x86dd, ipv6('fe80::1', 'fe80::2', 58, icmpEcho(128, 1, 2))), linkType: 276 },
  { bytes: ipv4('10.0.0.1', '10.0.0.2', 1, icmpEcho(8, 3, 4)), linkType: 101 },
  { bytes: nullLink(2, ipv4('10.0.0.1', '10.0.0.2', 6, tcp(1, 2, 3, 4, SYN))), linkType: 0 },
  { bytes: ether(0x8035, arp(3, [1, 2, 3, 4, 5, 6], '0.0.0.0', [1, 2, 3, 4, 5, 6], '0.0.0.0')), linkType: 1 },
  { bytes: ether(0x0806, arp(2, [1, 2, 3, 4, 5, 6], '10.0.0.9', [0, 0, 0, 0, 0, 0], '10.0.0.9')), linkType: 1 },
  { bytes: ether(0x0800, ipv4('10.0.0.1', '10.0.0.2', 6, seg, { flagsFrag: 0x2000 })), linkType: 1 },
];
const LINK_TYPES = [0, 1, 101, 113, 276, 108, 228, 229, 12345];

function internalErrors(msgs: ProtocolMessage[]): Anomaly[] {
  return msgs.filter((m): m is Anomaly => m.protocol === 'anomaly' && m.code === 'DISSECTOR_INTERNAL');
}

describe('fuzz: the Dissector never throws, counts everything, stays bounded', () => {
  it('≥ 100k truncated, bit-flipped and random packets', () => {
    const msgs: ProtocolMessage[] = [];
    const an = new RecordingAnalyzer('libvirt', [16509], (b) => b.length > 0 && b[0]! < 16);
    const MAX_BUF = 64 * 1024;
    const d = new Dissector((m) => { if (m.protocol === 'anomaly') msgs.push(m); }, { analyzers: [an], maxFlows: 500, maxFlowBufferBytes: MAX_BUF });
    const r = intsFrom(seededRandom(12345));
    let n = 0;
    let thrown = 0;
    let ts = T0;
    const feed = (bytes: Uint8Array, linkType: number, wire: number): void => {
      ts += BigInt(r(1000)) * PS_PER_MS; // up to 1 s steps: expiry and flushes run too
      try { d.packet(pkt(bytes, ts, linkType, wire)); } catch { thrown++; }
      n++;
    };
    // 1. every truncation of every corpus packet, with the wire length kept and not
    for (let rep = 0; rep < 4; rep++) {
      for (const c of corpus) {
        for (let len = 0; len <= c.bytes.length; len++) {
          feed(c.bytes.subarray(0, len), c.linkType, rep % 2 === 0 ? c.bytes.length : len);
        }
      }
    }
    // 2. bit flips of valid packets, sometimes under a wrong link type
    while (n < 80_000) {
      const c = corpus[r(corpus.length)]!;
      const b = c.bytes.slice();
      const flips = 1 + r(6);
      for (let i = 0; i < flips; i++) b[r(b.length)]! ^= 1 << r(8);
      const cut = r(4) === 0 ? r(b.length + 1) : b.length;
      const lt = r(16) === 0 ? LINK_TYPES[r(LINK_TYPES.length)]! : c.linkType;
      feed(b.subarray(0, cut), lt, r(8) === 0 ? r(70000) : b.length);
    }
    // 3. random bytes
    while (n < 105_000) {
      const b = new Uint8Array(r(200));
      for (let i = 0; i < b.length; i++) b[i] = r(256);
      feed(b, LINK_TYPES[r(LINK_TYPES.length)]!, b.length + r(3));
    }
    d.finish();
    reportFuzzed('dissector, single packets', n, n);
    expect(n).toBeGreaterThanOrEqual(100_000);
    expect(thrown).toBe(0);
    expect(internalErrors(msgs)).toEqual([]);
    expect(d.stats.packets).toBe(n);
    const s = d.stats;
    // Every packet was either dissected into a bucket or counted as malformed/fragment.
    expect(s.tcpPackets + s.udpPackets + s.icmpPackets + s.arpPackets + s.otherPackets + s.malformedPackets + s.fragments).toBe(n);
    expect(s.malformedPackets).toBeGreaterThan(1000);
    // Emitted anomaly counts add up to the totals: nothing lost in aggregation.
    const sums: Record<string, number> = {};
    for (const m of msgs) if (m.protocol === 'anomaly') sums[m.kind] = (sums[m.kind] ?? 0) + m.count;
    expect(sums).toEqual(s.anomalies);
    expect(s.flows.active).toBe(0);
  });

  it('random TCP segments on a few connections: reassembly stays consistent and bounded', () => {
    const an = new RecordingAnalyzer('libvirt', [16509]);
    const MAX_BUF = 32 * 1024;
    const msgs: ProtocolMessage[] = [];
    const d = new Dissector((m) => msgs.push(m), { analyzers: [an], maxFlowBufferBytes: MAX_BUF });
    const r = intsFrom(seededRandom(777));
    const payload = patternBytes(4096, 4);
    const flags = [ACK, ACK, ACK, PSH | ACK, SYN, SYN | ACK, FIN | ACK, RST, ACK];
    for (let i = 0; i < 30_000; i++) {
      const k = r(4);
      const c2s = r(2) === 0;
      const base = 0xfffe0000 + k * 0x1000;
      const seq = (base + r(200_000)) >>> 0;
      const len = r(3) === 0 ? 0 : r(1500);
      const f = flags[r(flags.length)]!;
      const off = r(payload.length - len);
      const b = c2s
        ? ethTcp('10.0.0.1', 40000 + k, '10.0.0.2', 16509, seq, (base + r(200_000)) >>> 0, f, payload.subarray(off, off + len))
        : ethTcp('10.0.0.2', 16509, '10.0.0.1', 40000 + k, seq, (base + r(200_000)) >>> 0, f, payload.subarray(off, off + len));
      d.packet(pkt(b, T0 + BigInt(i) * 1000n));
      if (i % 1000 === 0) {
        for (const fl of d.flows) {
          const held = (fl.c2s?.bufferedBytes ?? 0) + (fl.s2c?.bufferedBytes ?? 0);
          expect(held).toBeLessThanOrEqual(MAX_BUF);
        }
      }
    }
    d.finish();
    reportFuzzed('dissector, random segments on 4 connections', 30_000, 30_000);
    expect(internalErrors(msgs)).toEqual([]);
    // Per direction: nothing after 'end', and delivered + gaps never overlap (monotone stream).
    const check = (rec: RecordedFlow, dir: 'c2s' | 's2c'): void => {
      const ev = rec.events.filter((e) => e.dir === dir);
      const endAt = ev.findIndex((e) => e.type === 'end');
      if (endAt >= 0) expect(endAt).toBe(ev.length - 1);
      for (const e of ev) if (e.type !== 'end') expect(e.len).toBeGreaterThan(0);
    };
    for (const rec of an.flows) { check(rec, 'c2s'); check(rec, 's2c'); }
    expect(an.flows.length).toBeGreaterThan(0);
  });
});
