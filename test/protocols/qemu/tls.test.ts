import { describe, expect, it } from 'vitest';
import type { FlowInfo } from '../../../src/decode/types.js';
import { qemuAnalyzer } from '../../../src/protocols/qemu/index.js';
import type { ProtocolMessage } from '../../../src/protocols/types.js';

const flow: FlowInfo = {
  id: 4, transport: 'tcp', client: { ip: '10.0.0.1', port: 50004 }, server: { ip: '10.0.0.2', port: 49153 }, midstream: false,
};

/** A TLS record: type, version 3.3, length, body. */
function record(type: number, len: number): number[] {
  return [type, 3, 3, len >> 8, len & 0xff, ...new Array<number>(len).fill(0x5a)];
}

describe('TLS on a migration port (QEMU native TLS)', () => {
  // ClientHello (22), ChangeCipherSpec (20), then application data (23) records.
  const bytes = Uint8Array.from([...record(22, 300), ...record(20, 1), ...record(23, 16_401), ...record(23, 5000), ...record(21, 2)]);

  it('is counted, never walked as a plaintext QEMU stream, at any chunking', () => {
    for (const size of [1, 3, 4, 700, bytes.length]) {
      const out: ProtocolMessage[] = [];
      const d = qemuAnalyzer.create(flow, (m) => out.push(m));
      let i = 0;
      for (let off = 0; off < bytes.length; off += size, i++) d.data('c2s', bytes.subarray(off, off + size), BigInt(100 + i));
      d.data('s2c', new Uint8Array(77), 9000n);
      d.gap('s2c', 23, 9001n);
      d.end('c2s', 9999n);
      expect(out.filter((m) => m.protocol === 'anomaly'), `chunks of ${size}`).toEqual([]);
      expect(out.map((m) => m.protocol === 'qemu' && m.kind)).toEqual(['encrypted', 'encrypted-end']);
      const last = Math.ceil(bytes.length / size) - 1;
      // First application data: the chunk completing the record header at byte 311.
      const firstDataChunk = Math.floor((311 + 4) / size);
      expect(out[1]).toMatchObject({
        kind: 'encrypted-end', transport: 'tls', streamBytes: bytes.length, returnBytes: 100, records: 5,
        firstData: BigInt(100 + firstDataChunk),
      });
      const lastDataChunk = Math.floor((311 + 16_406 + 4) / size);
      expect((out[1] as { lastData?: bigint }).lastData).toBe(BigInt(100 + Math.min(lastDataChunk, last)));
    }
  });

  it('a hole in the source direction: bytes still counted from the sequence space, the record walk stops', () => {
    const out: ProtocolMessage[] = [];
    const d = qemuAnalyzer.create(flow, (m) => out.push(m));
    d.data('c2s', bytes.subarray(0, 400), 1n);
    d.gap('c2s', 1000, 2n);
    d.data('c2s', bytes.subarray(1400), 3n);
    d.end('c2s', 4n);
    expect(out.at(-1)).toMatchObject({ kind: 'encrypted-end', streamBytes: bytes.length, records: 3 });
  });
});
