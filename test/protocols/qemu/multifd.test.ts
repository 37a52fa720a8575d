import { describe, expect, it } from 'vitest';
import type { FlowInfo } from '../../../src/decode/types.js';
import { qemuAnalyzer } from '../../../src/protocols/qemu/index.js';
import type { Anomaly, ProtocolMessage, QemuMessage } from '../../../src/protocols/types.js';
import { multifdChannel, sampleStream } from './stream-builder.js';

const flow: FlowInfo = {
  id: 3, transport: 'tcp', client: { ip: '10.0.0.1', port: 50002 }, server: { ip: '10.0.0.2', port: 49152 }, midstream: false,
};

function feed(bytes: Uint8Array, chunk: number, end = true): ProtocolMessage[] {
  const out: ProtocolMessage[] = [];
  const d = qemuAnalyzer.create(flow, (m) => out.push(m));
  for (let off = 0, i = 0; off < bytes.length; off += chunk, i++) d.data('c2s', bytes.subarray(off, off + chunk), BigInt(10 + i));
  if (end) d.end('c2s', 9999n);
  return out;
}

describe('multifd channel decoder (QEMU 7.2 layout)', () => {
  const plan = [
    { packetNum: 0, sync: true },
    { packetNum: 1, offsets: [0x1000, 0x2000, 0x5000] },
    { packetNum: 5, block: 'vga.vram', offsets: [0], sync: true },
    { packetNum: 5, staleSize: 4096 }, // 7.2's bare header after a sync-joined data packet
    { packetNum: 9, sync: true },
  ];
  const ch = multifdChannel(2, plan);

  it('reports the channel, every packet with its bytes, and the channel total, at any chunking', () => {
    const ref = feed(ch.bytes, ch.bytes.length);
    expect(ref.filter((m) => m.protocol === 'anomaly')).toEqual([]);
    const q = ref as QemuMessage[];
    expect(q.map((m) => m.kind)).toEqual(['multifd-channel', 'multifd-packet', 'multifd-packet', 'multifd-packet', 'multifd-packet', 'multifd-packet', 'multifd-end']);
    expect(q[0]).toMatchObject({ channel: 2, streamBytes: 64 });
    let at = 64;
    q.slice(1, 6).forEach((m, i) => {
      at += ch.packetBytes[i]!;
      const p = plan[i]!;
      expect(m).toMatchObject({
        kind: 'multifd-packet', channel: 2, packetNum: p.packetNum, sync: p.sync === true, compression: 0,
        pages: p.offsets?.length ?? 0, bytes: ch.packetBytes[i], streamBytes: at,
        block: p.offsets ? (p.block ?? 'pc.ram') : '', firstOffset: p.offsets?.[0] ?? 0,
      });
    });
    // 320-byte header + 128 offsets = QEMU 7.2's packet_len; pages follow.
    // The bare header's stale next_packet_size is not followed by data.
    expect(ch.packetBytes).toEqual([1344, 1344 + 3 * 4096, 1344 + 4096, 1344, 1344]);
    expect(q[6]).toMatchObject({ kind: 'multifd-end', channel: 2, packets: 5, pages: 4, streamBytes: ch.bytes.length });
    for (const size of [1, 7, 333, 1500, 4096]) {
      const strip = (ms: ProtocolMessage[]) => ms.map(({ ts: _t, tsEnd: _e, ...r }) => r);
      expect(strip(feed(ch.bytes, size)), `chunks of ${size}`).toEqual(strip(ref));
    }
  });

  it('the same analyzer still decodes a main stream (QEVM)', () => {
    const out = feed(sampleStream().build(), 1000);
    expect(out.filter((m) => m.protocol === 'anomaly')).toEqual([]);
    expect(out.at(-1)).toMatchObject({ protocol: 'qemu', kind: 'eof' });
    expect(qemuAnalyzer.probe(ch.bytes.subarray(0, 4), flow)).toBe(true);
  });

  it('rejects other versions and inconsistent packets with one anomaly, never a crash', () => {
    const reasons = (b: Uint8Array) => feed(b, 500).filter((m): m is Anomaly => m.protocol === 'anomaly').map((a) => ({ code: a.code, ...a.fields }));
    const version2 = ch.bytes.slice();
    version2[7] = 2;
    expect(reasons(version2)).toEqual([{ code: 'QEMU_MULTIFD_BAD_VERSION', version: 2 }]);
    const tooMany = ch.bytes.slice();
    tooMany[64 + 19] = 200; // normal_pages of packet 0 > pages_alloc
    expect(reasons(tooMany)).toEqual([{ code: 'QEMU_MULTIFD_PAGES_OVER_ALLOC', pages: 200, pagesAlloc: 128 }]);
    const flags = ch.bytes.slice();
    flags[64 + 11] = 0x10;
    expect(reasons(flags)).toEqual([{ code: 'QEMU_MULTIFD_UNKNOWN_FLAGS', flags: 0x10 }]);
    // QEMU 9.0's layout: zero_pages where 7.2 reserves 32 bytes (same version number).
    const zeroPages = ch.bytes.slice();
    zeroPages[64 + 32 + 3] = 5;
    expect(reasons(zeroPages)).toEqual([{ code: 'QEMU_MULTIFD_RESERVED_NOT_ZERO', value: 5 }]);
    // Cut anywhere: the end still reports the bytes received.
    for (let cut = 64; cut < ch.bytes.length; cut += 1111) {
      const out = feed(ch.bytes.subarray(0, cut), 700);
      expect(out.filter((m) => m.protocol === 'anomaly')).toEqual([]);
      expect(out.at(-1)).toMatchObject({ kind: 'multifd-end', streamBytes: cut });
    }
  });
});
