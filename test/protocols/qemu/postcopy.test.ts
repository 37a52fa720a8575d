import { describe, expect, it } from 'vitest';
import type { FlowInfo } from '../../../src/decode/types.js';
import { QemuStreamDecoder } from '../../../src/protocols/qemu/index.js';
import type { ProtocolMessage, QemuMessage } from '../../../src/protocols/types.js';
import { QemuStreamBuilder } from './stream-builder.js';

const flow: FlowInfo = {
  id: 9, transport: 'tcp', client: { ip: '10.0.0.1', port: 50009 }, server: { ip: '10.0.0.2', port: 49152 }, midstream: false,
};
const P = 4096;

/** A post-copy stream as QEMU 7.2 writes it: pre-copy, discard, the package, post-copy RAM, END, EOF. */
function postcopyStream(): { bytes: Uint8Array; packageAt: number; packageEnd: number } {
  const s = new QemuStreamBuilder(P);
  s.header();
  s.u8(0x08).u16(1).u16(0); // OPEN_RETURN_PATH
  s.u8(0x08).u16(3).u16(16).u64(P).u64(P); // POSTCOPY_ADVISE
  s.sectionStart(0x01, 2, 'ram').memSize([['pc.ram', 8 * P]]).eos().footer(2);
  s.sectionPart(0x02, 2).page('page', 0, 'pc.ram', true).page('page', 5 * P).eos().footer(2);
  s.u8(0x08).u16(6).u16(6).bytes([0, 4]).str('abcd'); // RAM_DISCARD
  const packageAt = s.length;
  const pkg = new QemuStreamBuilder(P);
  pkg.u8(0x08).u16(4).u16(0); // LISTEN
  pkg.sectionStart(0x04, 3, 'cpu').u32(0x12345678).footer(3);
  pkg.u8(0x08).u16(2).u16(4).u32(3); // PING
  pkg.u8(0x08).u16(5).u16(0); // RUN
  const inner = pkg.build();
  s.u8(0x08).u16(7).u16(4).u32(inner.length).bytes(inner);
  const packageEnd = s.length;
  // Post-copy RAM: a requested page first (out of order), then the background sweep.
  s.sectionPart(0x02, 2).page('page', 6 * P, 'pc.ram').page('page', 2 * P).eos().footer(2);
  s.sectionPart(0x03, 2).page('page', 7 * P).eos().footer(2);
  s.eof();
  return { bytes: s.build(), packageAt, packageEnd };
}

/** Return-path messages: a PONG, a REQ_PAGES_ID (with idstr), a REQ_PAGES. */
function returnPath(): Uint8Array {
  const r = new QemuStreamBuilder(P);
  r.u16(2).u16(4).u32(1);
  r.u16(3).u16(19).u64(6 * P).u32(P).u8(6).str('pc.ram');
  r.u16(4).u16(12).u64(7 * P).u32(2 * P);
  return r.build();
}

describe('post-copy on the QEMU stream (7.2 layout)', () => {
  const { bytes, packageAt, packageEnd } = postcopyStream();
  const rp = returnPath();

  it('finds the switch at the package, walks the package and the post-copy RAM, counts page requests', () => {
    for (const size of [1, 13, 600, bytes.length]) {
      const out: ProtocolMessage[] = [];
      const d = new QemuStreamDecoder(flow, (m) => out.push(m));
      // Up to the package at time 1, the requests at time 2, the post-copy RAM at time 5.
      for (let off = 0; off < packageEnd; off += size) d.data('c2s', bytes.subarray(off, Math.min(off + size, packageEnd)), 1n);
      for (let off = 0; off < rp.length; off += 5) d.data('s2c', rp.subarray(off, off + 5), 2n);
      for (let off = packageEnd; off < bytes.length; off += size) d.data('c2s', bytes.subarray(off, off + size), 5n);
      d.end('c2s', 6n);
      expect(out.filter((m) => m.protocol === 'anomaly'), `chunks of ${size}`).toEqual([]);
      const q = out as QemuMessage[];
      const sw = q.filter((m) => m.kind === 'switchover');
      expect(sw).toEqual([expect.objectContaining({ mechanism: 'postcopy', iterations: 1, precopyBytes: packageAt })]);
      expect(q.filter((m) => m.kind === 'page-request').map((m) => m.kind === 'page-request' && m.bytes)).toEqual([P, 2 * P]);
      const eof = q.find((m) => m.kind === 'eof');
      // The post-copy stream ends at EOF (no VMDESCRIPTION); no passes are counted after the switch.
      expect(eof).toMatchObject({
        iterations: 2, precopyBytes: packageAt, stopCopyBytes: bytes.length - packageAt, streamBytes: bytes.length,
        postcopyBytes: bytes.length - packageEnd, normalPages: 5,
        // Both requested pages (6P, 7P) arrived 3 ticks after their requests.
        requestLatency: { served: 2, mean: 3n, max: 3n },
      });
      expect(q.filter((m) => m.kind === 'pass-started')).toHaveLength(1);
    }
  });

  it('rejects an unknown command with an anomaly', () => {
    const s = new QemuStreamBuilder(P).header().u8(0x08).u16(42).u16(0).build();
    const out: ProtocolMessage[] = [];
    const d = new QemuStreamDecoder(flow, (m) => out.push(m));
    d.data('c2s', s, 1n);
    expect(out.filter((m) => m.protocol === 'anomaly').map((m) => m.protocol === 'anomaly' && { code: m.code, ...m.fields })).toEqual([{ code: 'QEMU_UNKNOWN_COMMAND', command: 42 }]);
  });
});
