import { describe, expect, it } from 'vitest';
import type { FlowInfo } from '../../../src/decode/types.js';
import { qemuAnalyzer, QemuStreamDecoder } from '../../../src/protocols/qemu/index.js';
import type { Anomaly, ProtocolMessage, QemuMessage } from '../../../src/protocols/types.js';
import { QemuStreamBuilder, sampleStream } from './stream-builder.js';
import { intsFrom, seededRandom } from '../../helpers/rng.js';

const flow: FlowInfo = {
  id: 7, transport: 'tcp', client: { ip: '10.0.0.1', port: 50000 }, server: { ip: '10.0.0.2', port: 49152 }, midstream: false,
};

/** Feeds `bytes` in chunks of the given sizes (cycled); chunk i has ts = 1000 + i. */
function run(bytes: Uint8Array, sizes: number[] = [bytes.length], end = true): ProtocolMessage[] {
  const out: ProtocolMessage[] = [];
  const d = new QemuStreamDecoder(flow, (m) => out.push(m));
  let off = 0;
  let i = 0;
  while (off < bytes.length) {
    const n = Math.max(1, sizes[i % sizes.length]!);
    d.data('c2s', bytes.subarray(off, off + n), 1000n + BigInt(i));
    off += n;
    i++;
  }
  if (end) d.end('c2s', 5000n);
  return out;
}

const bodies = (ms: ProtocolMessage[]) => ms.map((m) => {
  const { ts: _ts, tsEnd: _te, ...rest } = m;
  return rest;
});

describe('QEMU stream decoder on a hand-built stream', () => {
  const s = sampleStream();
  const bytes = s.build();
  const m = s.marks;

  it('reports header, passes, chunks, switchover, device sections and eof with exact byte counts', () => {
    const out = run(bytes);
    expect(out.filter((x) => x.protocol === 'anomaly')).toEqual([]);
    const q = out as QemuMessage[];
    expect(q.map((x) => x.kind)).toEqual([
      'header', 'pass-started', 'ram-chunk', 'ram-chunk', 'pass-started', 'ram-chunk', 'switchover',
      'device-section', 'device-section', 'device-section', 'eof',
    ]);
    expect(q[0]).toMatchObject({ version: 3, streamBytes: 8, src: flow.client, dst: flow.server, flowId: 7 });
    expect(q[1]).toMatchObject({ iteration: 1 });
    expect(q[2]).toMatchObject({ iteration: 1, pages: 4, passBytes: m.chunkEnds[1]! - m.passStarts[0]!, streamBytes: m.chunkEnds[1] });
    expect(q[3]).toMatchObject({ iteration: 1, pages: 4, passBytes: m.chunkEnds[2]! - m.passStarts[0]! });
    expect(q[4]).toMatchObject({ iteration: 2 });
    expect(q[5]).toMatchObject({ iteration: 2, pages: 2, passBytes: m.chunkEnds[3]! - m.passStarts[1]! });
    expect(q[6]).toMatchObject({ iterations: 2, precopyBytes: m.endRam });
    expect(q.slice(7, 10).map((x) => (x as { idstr: string }).idstr)).toEqual(['timer', 'cpu', 'apic']);
    expect(q[10]).toEqual({
      protocol: 'qemu', kind: 'eof', ts: q[10]!.ts, tsEnd: q[10]!.tsEnd, flowId: 7, src: flow.client, dst: flow.server,
      iterations: 3, precopyBytes: m.endRam, stopCopyBytes: bytes.length - m.endRam,
      passBytes: [m.passStarts[1]! - m.passStarts[0]!, m.endRam - m.passStarts[1]!, m.afterEndRam - m.endRam],
      ramStopCopyBytes: m.afterEndRam - m.endRam, normalPages: s.normalPages, zeroPages: s.zeroPages,
      streamBytes: bytes.length,
    });
    expect(s.normalPages).toBe(7);
    expect(s.zeroPages).toBe(4);
  });

  it('gives identical messages for any chunking, down to 1-byte chunks', () => {
    const whole = bodies(run(bytes));
    expect(bodies(run(bytes, [1]))).toEqual(whole);
    expect(bodies(run(bytes, [3, 1, 4096, 2, 17]))).toEqual(whole);
    expect(bodies(run(bytes, [4095, 4097, 5]))).toEqual(whole);
    const int = intsFrom(seededRandom(12345));
    const rnd = (): number => int(300);
    for (let k = 0; k < 20; k++) expect(bodies(run(bytes, Array.from({ length: 50 }, rnd)))).toEqual(whole);
  });

  it('stamps a message with the segment of its first byte (ts) and of its last (tsEnd)', () => {
    // Split inside the END(ram) header: switchover starts in chunk 0 and completes in chunk 1.
    const out = run(bytes, [m.endRam + 2, bytes.length]) as QemuMessage[];
    const sw = out.find((x) => x.kind === 'switchover')!;
    expect(sw.ts).toBe(1000n);
    expect(sw.tsEnd).toBe(1001n);
    const hdr = out.find((x) => x.kind === 'header')!;
    expect([hdr.ts, hdr.tsEnd]).toEqual([1000n, 1000n]);
  });

  it('learns the target page size from the configuration subsection', () => {
    const small = sampleStream(512);
    const out = run(small.build(), [7]);
    expect(out.filter((x) => x.protocol === 'anomaly')).toEqual([]);
    const eof = out.at(-1) as Extract<QemuMessage, { kind: 'eof' }>;
    expect(eof).toMatchObject({ kind: 'eof', iterations: 3, normalPages: 7, streamBytes: small.length });
  });

  it('stays in step across a capture gap inside page data, and gives up on a gap in a header', () => {
    const out: ProtocolMessage[] = [];
    const d = new QemuStreamDecoder(flow, (x) => out.push(x));
    const inPage = m.passStarts[0]! + 8 + 1 + 6 + 100; // 100 bytes into the first page's data
    d.data('c2s', bytes.subarray(0, inPage), 1n);
    d.gap('c2s', 1000, 2n);
    d.data('c2s', bytes.subarray(inPage + 1000), 3n);
    d.end('c2s', 4n);
    expect(out.filter((x) => x.protocol === 'anomaly')).toEqual([]);
    expect(bodies(out)).toEqual(bodies(run(bytes)));

    const out2: ProtocolMessage[] = [];
    const d2 = new QemuStreamDecoder(flow, (x) => out2.push(x));
    d2.data('c2s', bytes.subarray(0, 10), 1n);
    d2.gap('c2s', 5, 2n);
    d2.data('c2s', bytes.subarray(15), 3n);
    expect(out2.filter((x) => x.protocol === 'anomaly')).toHaveLength(1);
    expect(out2.some((x) => x.protocol === 'qemu' && x.kind === 'eof')).toBe(false);
  });

  it('summarises a stream that ends before EOF (a cancelled migration) at every truncation, without an anomaly', () => {
    const eof = run(bytes).find((x): x is Extract<QemuMessage, { kind: 'eof' }> => x.protocol === 'qemu' && x.kind === 'eof')!;
    for (let cut = 1; cut < m.eof; cut += 97) {
      const out = run(bytes.subarray(0, cut), [61]);
      expect(out.filter((x) => x.protocol === 'anomaly'), `cut at ${cut}`).toEqual([]);
      expect(out.some((x) => x.protocol === 'qemu' && x.kind === 'eof')).toBe(false);
      const cuts = out.filter((x): x is Extract<QemuMessage, { kind: 'cut' }> => x.protocol === 'qemu' && x.kind === 'cut');
      if (cut < 8) { expect(cuts).toEqual([]); continue; } // the magic itself was cut: no stream yet
      expect(cuts, `cut at ${cut}`).toHaveLength(1);
      const c = cuts[0]!;
      // Every byte received counts; passes are those begun before the cut.
      expect(c.streamBytes).toBe(cut);
      // A pass begins once the record carrying its first page is complete (header + page
      // record header, under 40 bytes here); SECTION_END(ram) once its 5-byte header is.
      const starts = [...m.passStarts.map((p) => [p, 40] as const), [m.endRam, 5] as const];
      const begun = starts.filter(([p, len]) => cut >= p + len).length;
      const maybe = starts.filter(([p, len]) => cut > p && cut < p + len).length;
      expect(c.iterations, `cut at ${cut}`).toBeGreaterThanOrEqual(begun);
      expect(c.iterations, `cut at ${cut}`).toBeLessThanOrEqual(begun + maybe);
      expect(c.passBytes).toHaveLength(c.iterations);
      expect(c.passBytes.slice(0, -1), `cut at ${cut}: ${JSON.stringify(c.passBytes)} ${c.iterations}`).toEqual(eof.passBytes.slice(0, Math.max(0, c.iterations - 1)));
      expect(c.precopyBytes + c.stopCopyBytes).toBe(cut);
      expect(c.precopyBytes).toBe(cut > m.endRam ? eof.precopyBytes : cut);
    }
  });

  it('rejects garbage: bad magic, unknown record types, unsupported RAM flags', () => {
    const bad = (b: Uint8Array) => run(b).filter((x): x is Anomaly => x.protocol === 'anomaly').map((a) => ({ code: a.code, ...a.fields }));
    expect(bad(Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 8, 9]))[0]).toEqual({ code: 'QEMU_BAD_MAGIC', magic: 0x01020304 });
    expect(bad(new QemuStreamBuilder().header().u8(0x42).build())[0]).toEqual({ code: 'QEMU_UNKNOWN_RECORD', recordType: 0x42, offset: 8 });
    expect(bad(new QemuStreamBuilder().header().sectionStart(0x01, 1, 'ram').u64(0x80).build())[0]).toEqual({ code: 'QEMU_UNSUPPORTED_RAM_FLAGS', flags: 0x80 });
    expect(bad(new QemuStreamBuilder().header().sectionPart(0x02, 9).build())[0]).toEqual({ code: 'QEMU_UNKNOWN_SECTION', section: 9 });
    expect(bad(new QemuStreamBuilder().header().sectionStart(0x01, 1, 'ram').u64(0x28).build())[0]).toEqual({ code: 'QEMU_CONTINUE_WITHOUT_RAMBLOCK' });
  });

  it('ignores the return path (s2c) and probes the QEVM magic', () => {
    const out: ProtocolMessage[] = [];
    const d = new QemuStreamDecoder(flow, (x) => out.push(x));
    d.data('s2c', Uint8Array.from([1, 2, 3]), 1n);
    expect(out).toEqual([]);
    expect(qemuAnalyzer.probe(bytes.subarray(0, 8), flow)).toBe(true);
    expect(qemuAnalyzer.probe(Uint8Array.from([0x51, 0x45, 0x56]), flow)).toBe(false);
    expect(qemuAnalyzer.probe(Uint8Array.from([0, 0, 0, 0x28, 0x20, 0, 0x80, 0x86]), flow)).toBe(false);
  });
});
