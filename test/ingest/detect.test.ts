import { describe, expect, it } from 'vitest';
import { detectFormat } from '../../src/ingest/formats/index.js';
import { Bytes } from './helpers.js';

const oldHeader = (le: boolean, version: '0.6' | '0.5', mpid: number[]): Uint8Array => {
  const b = new Bytes(le).u32(12);
  if (version === '0.6') b.u8(0, 6);
  else b.u32(0).u32(5);
  return b.bytes(mpid).bytes(new Array(200 - mpid.length).fill(0)).done();
};

describe('detectFormat from magic bytes', () => {
  it.each([
    ['pcap µs LE', [0xd4, 0xc3, 0xb2, 0xa1], 'pcap'],
    ['pcap µs BE', [0xa1, 0xb2, 0xc3, 0xd4], 'pcap'],
    ['pcap ns LE', [0x4d, 0x3c, 0xb2, 0xa1], 'pcap'],
    ['pcap ns BE', [0xa1, 0xb2, 0x3c, 0x4d], 'pcap'],
    ['pcapng LE', [0x0a, 0x0d, 0x0d, 0x0a, 28, 0, 0, 0, 0x4d, 0x3c, 0x2b, 0x1a], 'pcapng'],
    ['pcapng BE', [0x0a, 0x0d, 0x0d, 0x0a, 0, 0, 0, 28, 0x1a, 0x2b, 0x3c, 0x4d], 'pcapng'],
    ['pcapng bad BOM', [0x0a, 0x0d, 0x0d, 0x0a, 0, 0, 0, 28, 1, 2, 3, 4], null],
    ['dpmi 0.7 LE', [0x6e, 0x9b, 0x3d, 0xc5, 0x47, 0xe2, 0x1a, 0x8f], 'dpmi'],
    ['dpmi 0.7 BE', [0x8f, 0x1a, 0xe2, 0x47, 0xc5, 0x3d, 0x9b, 0x6e], 'dpmi'],
    ['text', Array.from(new TextEncoder().encode('GET / HTTP/1.1\r\n')), null],
    ['too short', [0xd4, 0xc3], null],
  ])('%s', (_name, bytes, want) => {
    expect(detectFormat(Uint8Array.from(bytes))).toBe(want);
  });

  it('older DPMI headers need a clean mpid field (they have no magic)', () => {
    const mp = Array.from(new TextEncoder().encode('mp-1'));
    expect(detectFormat(oldHeader(true, '0.6', mp))).toBe('dpmi');
    expect(detectFormat(oldHeader(false, '0.5', mp))).toBe('dpmi');
    expect(detectFormat(oldHeader(true, '0.6', [0x6d, 0x01, 0x70]))).toBeNull();
    expect(detectFormat(oldHeader(true, '0.6', mp).subarray(0, 100))).toBeNull();
  });
});
