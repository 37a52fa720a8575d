import type { Direction, FlowInfo } from '../../src/decode/types.js';
import type { Emit, ProtocolMessage, StreamDecoder } from '../../src/protocols/types.js';

/** A test connection 10.0.0.1:40000 → 10.0.0.2:<port>. */
export function testFlow(port: number, id = 7): FlowInfo {
  return {
    id, transport: 'tcp', midstream: false,
    client: { ip: '10.0.0.1', port: 40000 }, server: { ip: '10.0.0.2', port },
  };
}

/** One TCP segment's payload as the reassembler would hand it over. */
export interface Segment { dir: Direction; bytes: Uint8Array; ts: bigint }

/**
 * Splits every segment into pieces (each keeping its segment's timestamp, so the
 * decoded messages must not change): size 1, or random sizes from `rand`.
 */
export function rechunk(segments: Segment[], piece: 'whole' | 'byte' | (() => number)): Segment[] {
  if (piece === 'whole') return segments;
  const out: Segment[] = [];
  for (const s of segments) {
    let off = 0;
    while (off < s.bytes.length) {
      const n = piece === 'byte' ? 1 : 1 + Math.floor(piece() * 97);
      out.push({ dir: s.dir, bytes: s.bytes.slice(off, off + n), ts: s.ts });
      off += n;
    }
  }
  return out;
}

/** A decoder created on an emit that collects into `out`. */
export function collecting<D extends StreamDecoder>(make: (emit: Emit) => D): { decoder: D; out: ProtocolMessage[] } {
  const out: ProtocolMessage[] = [];
  return { decoder: make((m) => { out.push(m); }), out };
}

/** Feeds segments (then optional ends) to a fresh decoder and returns everything emitted. */
export function run(make: (emit: Emit) => StreamDecoder, segments: Segment[], ends: { dir: Direction; ts: bigint }[] = []): ProtocolMessage[] {
  const { decoder, out } = collecting(make);
  for (const s of segments) decoder.data(s.dir, s.bytes, s.ts);
  for (const e of ends) decoder.end(e.dir, e.ts);
  return out;
}

export const ascii = (s: string): Uint8Array => new TextEncoder().encode(s);

export function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let off = 0;
  for (const p of parts) { out.set(p, off); off += p.length; }
  return out;
}
