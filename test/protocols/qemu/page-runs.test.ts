import { describe, expect, it } from 'vitest';
import type { FlowInfo } from '../../../src/decode/types.js';
import { QemuStreamDecoder } from '../../../src/protocols/qemu/index.js';
import type { ProtocolMessage, QemuMessage } from '../../../src/protocols/types.js';
import { QemuStreamBuilder } from './stream-builder.js';
import { intsFrom, seededRandom } from '../../helpers/rng.js';

const flow: FlowInfo = {
  id: 3, transport: 'tcp', client: { ip: '10.0.0.1', port: 50000 }, server: { ip: '10.0.0.2', port: 49152 }, midstream: false,
};

/** Feeds `bytes` in chunks of the given sizes (cycled); the messages without their times. */
function run(bytes: Uint8Array, sizes: number[]): Omit<ProtocolMessage, 'ts' | 'tsEnd'>[] {
  const out: ProtocolMessage[] = [];
  const d = new QemuStreamDecoder(flow, (m) => out.push(m));
  for (let off = 0, i = 0; off < bytes.length; i++) {
    const n = Math.max(1, sizes[i % sizes.length]!);
    d.data('c2s', bytes.subarray(off, off + n), BigInt(i));
    off += n;
  }
  d.end('c2s', 1_000_000n);
  return out.map(({ ts: _t, tsEnd: _e, ...rest }) => rest);
}

/**
 * Long runs of CONTINUE pages (zero and full, as a first pass sends them), with passes
 * that wrap inside a run (the address going back within one block, once at a zero page
 * once at a full one, once by a single page), an address repeated (not a wrap), and a block change: the
 * decoder walks such runs in one loop, and must find the same passes, pages and byte
 * offsets as the builder recorded, whatever the segment boundaries.
 */
describe('QEMU RAM page runs', () => {
  const P = 4096;
  const s = new QemuStreamBuilder(P);
  s.header().configuration('pc-i440fx-7.2');
  s.sectionStart(0x01, 2, 'ram').memSize([['pc.ram', 512 * P], ['vga.vram', 4 * P]]).eos().footer(2);
  s.sectionPart(0x02, 2).page('zero', 0, 'pc.ram', true);
  for (let i = 1; i < 200; i++) s.page(i % 7 === 3 ? 'page' : 'zero', i * P);
  s.page('zero', 199 * P); // the same address again: not a new pass
  s.page('zero', 5 * P, undefined, true); // back within the block: pass 2, mid-run
  for (let i = 6; i < 60; i++) s.page(i % 5 === 0 ? 'page' : 'zero', i * P);
  s.eos().footer(2);
  s.sectionPart(0x02, 2);
  for (let i = 60; i < 120; i++) s.page('zero', i * P, i === 60 ? 'pc.ram' : undefined);
  s.page('page', 2 * P, undefined, true); // pass 3 starts at a full page, mid-run
  for (let i = 3; i < 40; i++) s.page('zero', i * P);
  s.page('zero', 38 * P, undefined, true); // one page back: pass 4
  s.page('page', 39 * P);
  s.page('zero', 0, 'vga.vram').page('page', P).page('zero', 2 * P);
  s.eos().footer(2);
  s.sectionPart(0x03, 2).page('page', 0, 'pc.ram').page('zero', P).eos().footer(2);
  s.sectionStart(0x04, 0, 'timer').u64(12345).footer(0);
  s.eof().vmdesc('{"page_size":4096,"devices":[]}');
  const bytes = s.build();
  const whole = run(bytes, [bytes.length]);

  it('finds every pass start and page count the builder wrote', () => {
    const q = whole as QemuMessage[];
    expect(q.filter((m) => m.protocol !== 'qemu')).toEqual([]);
    const passes = q.filter((m) => m.kind === 'pass-started');
    expect(passes.map((m) => m.kind === 'pass-started' && m.iteration)).toEqual([1, 2, 3, 4]);
    const eof = q.find((m) => m.kind === 'eof')!;
    expect(eof).toMatchObject({ normalPages: s.normalPages, zeroPages: s.zeroPages, iterations: 5, streamBytes: bytes.length });
    if (eof.kind !== 'eof') throw new Error('eof');
    const m = s.marks;
    expect(eof.passBytes.slice(0, 4)).toEqual([1, 2, 3, 4].map((k) => (k < 4 ? m.passStarts[k]! : m.endRam) - m.passStarts[k - 1]!));
    const chunks = q.filter((x) => x.kind === 'ram-chunk');
    expect(chunks.map((c) => c.kind === 'ram-chunk' && c.streamBytes)).toEqual(m.chunkEnds.slice(1, 3));
    expect(chunks.map((c) => c.kind === 'ram-chunk' && c.pages)).toEqual([202 + 54, 60 + 1 + 37 + 2 + 3]);
  });

  it('gives the same messages for any segment boundaries, down to 1 byte', () => {
    expect(run(bytes, [1])).toEqual(whole);
    expect(run(bytes, [9, 8, 1, 4105, 17])).toEqual(whole);
    expect(run(bytes, [1448])).toEqual(whole);
    const int = intsFrom(seededRandom(99));
    for (let k = 0; k < 20; k++) expect(run(bytes, Array.from({ length: 40 }, () => 1 + int(3000)))).toEqual(whole);
  });
});
