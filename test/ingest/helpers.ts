import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { seededRandom } from '../helpers/rng.js';

export interface TestPacket {
  ts: bigint;
  data: Uint8Array;
  wireLength: number;
}

/** Ethernet frames (local experimental EtherType 0x88b5) with random payloads and ps timestamps. */
export function makePackets(n: number, seed: number, opts: { maxLen?: number; start?: bigint } = {}): TestPacket[] {
  const r = seededRandom(seed);
  const out: TestPacket[] = [];
  let ts = opts.start ?? 1_732_530_000_123_456_789_012n;
  const maxLen = opts.maxLen ?? 1514;
  for (let i = 0; i < n; i++) {
    ts += BigInt(Math.floor(r() * 2_000_000_000)) + 1n; // up to 2 ms apart, ps precision
    const len = 60 + Math.floor(r() * (maxLen - 59));
    const data = new Uint8Array(len);
    for (let j = 0; j < len; j++) data[j] = Math.floor(r() * 256);
    data.set([0x02, 0, 0, 0, 0, 2, 0x02, 0, 0, 0, 0, 1, 0x88, 0xb5], 0);
    out.push({ ts, data, wireLength: len });
  }
  return out;
}

/**
 * Whether an external tool can run. Under CI a missing tool is a failure (CI installs
 * everything); locally the test is skipped with a printed reason.
 */
export function toolAvailable(tool: string): boolean {
  const ok = spawnSync(tool, ['--version'], { stdio: 'ignore', timeout: 20_000 }).status === 0;
  if (!ok) {
    if (process.env.CI === 'true') throw new Error(`${tool} is required under CI (scripts/setup.sh installs it)`);
    console.warn(`skipping: ${tool} not installed`);
  }
  return ok;
}

export function run(tool: string, args: string[]): string {
  const res = spawnSync(tool, args, { encoding: 'utf8', timeout: 60_000, maxBuffer: 64 << 20 });
  if (res.status !== 0) throw new Error(`${tool} ${args.join(' ')} failed: ${res.stderr}`);
  return res.stdout;
}

export function withTempDir(): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'migscope-ingest-'));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** tshark's frame.time_epoch ("s.nnnnnnnnn") → ps. */
export function epochToPicos(s: string): bigint {
  const [whole, frac = ''] = s.trim().split('.');
  return BigInt(whole!) * 1_000_000_000_000n + BigInt(frac.padEnd(12, '0').slice(0, 12));
}

import { createCaptureReader, detectFormat } from '../../src/ingest/formats/index.js';
import type { CaptureReader, CapturedPacket } from '../../src/ingest/types.js';

export interface ReadPacket {
  ts: bigint;
  data: number[];
  wireLength: number;
  linkType: number;
  iface: number;
  nic?: string | undefined;
  mampid?: string | undefined;
}

export function snapshot(p: CapturedPacket): ReadPacket {
  return { ts: p.ts, data: Array.from(p.data), wireLength: p.wireLength, linkType: p.linkType, iface: p.iface, nic: p.nic, mampid: p.mampid };
}

/** Feeds `bytes` to a reader of the detected format in the given chunk sizes, copying each packet. */
export function readBytes(
  bytes: Uint8Array,
  chunks: (i: number) => number = () => bytes.length,
  wrap?: (sink: (p: CapturedPacket) => void) => (p: CapturedPacket) => void,
): { packets: ReadPacket[]; reader: CaptureReader & { problem: string | undefined } } {
  const packets: ReadPacket[] = [];
  const collect = (p: CapturedPacket): void => void packets.push(snapshot(p));
  const format = detectFormat(bytes);
  if (!format) throw new Error('unknown format');
  const reader = createCaptureReader(format, wrap ? wrap(collect) : collect);
  for (let off = 0, i = 0; off < bytes.length; i++) {
    const n = Math.max(1, chunks(i));
    reader.push(bytes.subarray(off, off + n));
    off += n;
  }
  reader.end();
  return { packets, reader };
}

/** Little helper for hand-built binary files in either byte order. */
export class Bytes {
  private readonly parts: number[] = [];
  constructor(private readonly le: boolean) {}
  u8(...v: number[]): this {
    this.parts.push(...v);
    return this;
  }
  u16(v: number): this {
    const b = new DataView(new ArrayBuffer(2));
    b.setUint16(0, v, this.le);
    return this.u8(b.getUint8(0), b.getUint8(1));
  }
  u32(v: number): this {
    const b = new DataView(new ArrayBuffer(4));
    b.setUint32(0, v, this.le);
    return this.u8(...new Uint8Array(b.buffer));
  }
  u64(v: bigint): this {
    const b = new DataView(new ArrayBuffer(8));
    b.setBigUint64(0, v, this.le);
    return this.u8(...new Uint8Array(b.buffer));
  }
  bytes(v: ArrayLike<number>): this {
    return this.u8(...Array.from(v));
  }
  pad4(): this {
    while (this.parts.length % 4) this.parts.push(0);
    return this;
  }
  get length(): number {
    return this.parts.length;
  }
  done(): Uint8Array {
    return Uint8Array.from(this.parts);
  }
}
