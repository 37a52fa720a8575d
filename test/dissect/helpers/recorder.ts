/** Test-only stream analyzer that records exactly what the reassembler delivers. */
import { intsFrom, seededRandom } from '../../helpers/rng.js';
import type { Picos } from '../../../src/core/time.js';
import type { Direction, FlowInfo } from '../../../src/decode/types.js';
import type { GapKind, ProtocolAnalyzer, ProtocolMessage, ProtocolName, StreamDecoder } from '../../../src/protocols/types.js';

export interface StreamEvent { type: 'data' | 'gap' | 'end'; dir: Direction; len: number; ts: Picos; first?: number; kind?: GapKind }

export class RecordedFlow implements StreamDecoder {
  readonly events: StreamEvent[] = [];
  private readonly chunks: Record<Direction, Uint8Array[]> = { c2s: [], s2c: [] };
  constructor(readonly flow: FlowInfo) {}
  data(dir: Direction, bytes: Uint8Array, ts: Picos): void {
    this.chunks[dir].push(bytes.slice());
    this.events.push({ type: 'data', dir, len: bytes.length, ts, first: bytes[0] });
  }
  gap(dir: Direction, length: number, ts: Picos, kind: GapKind): void { this.events.push({ type: 'gap', dir, len: length, ts, kind }); }
  end(dir: Direction, ts: Picos): void { this.events.push({ type: 'end', dir, len: 0, ts }); }
  bytes(dir: Direction): Uint8Array {
    const parts = this.chunks[dir];
    const out = new Uint8Array(parts.reduce((s, p) => s + p.length, 0));
    let o = 0;
    for (const p of parts) { out.set(p, o); o += p.length; }
    return out;
  }
  gaps(dir: Direction): number[] { return this.events.filter((e) => e.type === 'gap' && e.dir === dir).map((e) => e.len); }
  gapKinds(dir: Direction): (GapKind | undefined)[] { return this.events.filter((e) => e.type === 'gap' && e.dir === dir).map((e) => e.kind); }
}

export class RecordingAnalyzer implements ProtocolAnalyzer {
  readonly flows: RecordedFlow[] = [];
  constructor(
    readonly name: ProtocolName,
    readonly ports: readonly number[],
    private readonly probeFn: (b: Uint8Array) => boolean = () => false,
  ) {}
  probe(first: Uint8Array): boolean { return this.probeFn(first); }
  create(flow: FlowInfo): StreamDecoder {
    const r = new RecordedFlow(flow);
    this.flows.push(r);
    return r;
  }
}

export function collect(): { emit: (m: ProtocolMessage) => void; msgs: ProtocolMessage[] } {
  const msgs: ProtocolMessage[] = [];
  return { emit: (m) => { msgs.push(m); }, msgs };
}

/** Deterministic pseudo-random bytes, so failures reproduce. */
export function patternBytes(n: number, seed = 1): Uint8Array {
  const byte = intsFrom(seededRandom(seed));
  return Uint8Array.from({ length: n }, () => byte(256));
}
