/**
 * A small pcap crafting helper for the hostile-input suite and `bench --hostile`, built
 * on the project's own wire builders (src/generate/wire) and capture writers
 * (src/ingest/formats): attack packets first, then (optionally) a generated migration
 * whose ground truth says what must still be found after the attack.
 */
import { PS_PER_S, type Picos } from '../../src/core/time.js';
import { generateTrace, type GenerateOptions, type GroundTruth } from '../../src/generate/index.js';
import { host, type Host } from '../../src/generate/wire/ethernet-ip.js';
import { QEMU_VM_FILE_MAGIC, QEMU_VM_FILE_VERSION, QemuSection, RamFlag, TARGET_PAGE } from '../../src/generate/wire/qemu-stream.js';
import { buildTcpFrame, TCP_ACK, TCP_PSH, TCP_SYN } from '../../src/generate/wire/tcp-frame.js';
import { remoteCall } from '../../src/generate/wire/libvirt-rpc.js';
import { XdrWriter } from '../../src/generate/wire/xdr.js';
import { createCaptureWriter, fileSink } from '../../src/ingest/formats/index.js';
import type { CapturedPacket, CaptureWriter } from '../../src/ingest/types.js';

export { TCP_ACK, TCP_PSH, TCP_SYN };

/** Attack traffic starts here; a migration appended after it starts at `after()`. */
export const ATTACK_T0: Picos = 1_700_000_000n * PS_PER_S;
const NS = 1_000n;

const hosts = new Map<string, Host>();
export function hostOf(ip: string): Host {
  let h = hosts.get(ip);
  if (h === undefined) {
    const n = ip.split('.').map(Number);
    h = host(ip, `52:54:00:${n.slice(1).map((x) => x.toString(16).padStart(2, '0')).join(':')}`);
    hosts.set(ip, h);
  }
  return h;
}

/** `10.a.b.c` for a 24-bit index: many distinct sources. */
export function ipOf(i: number): string {
  return `10.${(i >>> 16) & 255}.${(i >>> 8) & 255}.${i & 255}`;
}

export interface Segment {
  src: string; sport: number; dst: string; dport: number;
  seq: number; ack?: number; flags?: number;
  payload?: Uint8Array;
  /** Bytes of the frame kept (snaplen cut); default all. */
  caplen?: number;
}

const EMPTY = new Uint8Array(0);

export class CraftedCapture {
  private readonly writer: CaptureWriter;
  /** Next packet time: 1 µs apart. */
  ts: Picos = ATTACK_T0;
  packets = 0;

  /** `target`: a file path (pcap, ns timestamps) or any capture writer (tests keep packets in memory). */
  constructor(target: string | CaptureWriter) {
    this.writer = typeof target === 'string' ? createCaptureWriter('pcap-ns', fileSink(target)) : target;
  }

  tcp(s: Segment): void {
    const payload = s.payload ?? EMPTY;
    const frame = buildTcpFrame({
      src: hostOf(s.src), dst: hostOf(s.dst), srcPort: s.sport, dstPort: s.dport,
      seq: s.seq >>> 0, ack: (s.ack ?? 0) >>> 0, flags: s.flags ?? TCP_ACK, window: 0xffff,
      ipId: this.packets & 0xffff, tsval: 0, tsecr: 0,
    }, [{ bytes: payload, offset: 0, length: payload.length }], payload.length);
    const cap = s.caplen !== undefined ? Math.min(s.caplen, frame.length) : frame.length;
    this.writer.write(this.ts, cap < frame.length ? frame.subarray(0, cap) : frame, frame.length);
    this.ts += NS * 1000n;
    this.packets++;
  }

  /** A generated migration after everything written so far (the truth says what to find). */
  migration(opts: Partial<GenerateOptions>): GroundTruth {
    const startTime = this.ts + PS_PER_S;
    return generateTrace({ payloadScale: 0.002, seed: 7, ...opts, format: 'pcap-ns', startTime }, this.writer);
  }

  close(): void {
    this.writer.close();
  }
}

/** A capture writer that keeps the packets (for feeding a Dissector in-process). */
export function memoryCapture(): CaptureWriter & { packets: CapturedPacket[] } {
  const packets: CapturedPacket[] = [];
  return {
    format: 'pcap-ns', resolution: 1_000n, packets,
    write(ts: bigint, data: Uint8Array, wireLength?: number): void {
      packets.push({ ts, data: data.slice(), linkType: 1, wireLength: wireLength ?? data.length, iface: 0 });
    },
    close(): void {},
  };
}

/** Offset of the first payload byte in a crafted frame (Ethernet + IPv4 + TCP with timestamps). */
export const PAYLOAD_OFFSET = 14 + 20 + 32;

// ---- the growing cases of issue 10 ----

const VICTIM = { src: '192.168.50.1', sport: 40000, dst: '192.168.50.2', dport: 16509 };

/** One flow, `n` 1-byte segments after a SYN, in descending (or shuffled) sequence order. */
export function reassemblyFlood(c: CraftedCapture, n: number, order: 'descending' | 'random', seed = 1): void {
  const isn = 0xfffff000 - Math.floor(n / 2); // the sequence numbers wrap in the middle
  c.tcp({ ...VICTIM, seq: isn, flags: TCP_SYN });
  const offs = Array.from({ length: n }, (_, i) => n - i);
  if (order === 'random') shuffle(offs, seed);
  const one = new Uint8Array(1);
  for (const o of offs) {
    one[0] = o & 0xff;
    c.tcp({ ...VICTIM, seq: (isn + 1 + o) >>> 0, payload: one });
  }
}

/** `flows` connections, each holding `perFlow` bytes out of order (the first segment never comes). */
export function manyOutOfOrderFlows(c: CraftedCapture, flows: number, perFlow: number, caplen?: number): void {
  const seg = new Uint8Array(1400).fill(0x41);
  for (let f = 0; f < flows; f++) {
    const src = ipOf(0x100000 + f);
    c.tcp({ src, sport: 50000, dst: VICTIM.dst, dport: 16509, seq: 1000, flags: TCP_SYN });
    for (let off = 1400; off < perFlow + 1400; off += seg.length) {
      const s: Segment = { src, sport: 50000, dst: VICTIM.dst, dport: 16509, seq: 1001 + off, payload: seg };
      if (caplen !== undefined) s.caplen = caplen;
      c.tcp(s);
    }
  }
}

/** `n` SYNs from distinct random-looking sources to `port`. */
export function synFlood(c: CraftedCapture, n: number, port: number, seed = 1): void {
  const next = rng(seed);
  for (let i = 0; i < n; i++) {
    c.tcp({ src: ipOf(next() & 0xffffff), sport: 1024 + (next() % 60000), dst: VICTIM.dst, dport: port, seq: next(), flags: TCP_SYN });
  }
}

/**
 * `n` SYNs whose (source address xor port) is constant: the shape that filled one chain
 * of the old unkeyed flow hash.
 */
export function hashCollisionFlood(c: CraftedCapture, n: number): void {
  for (let i = 0; i < n; i++) {
    const ipLow = (i * 7) & 0xffff;
    const sport = (ipLow ^ 0x5a5a) & 0xffff;
    c.tcp({ src: `10.77.${ipLow >>> 8}.${ipLow & 255}`, sport, dst: VICTIM.dst, dport: 9, seq: i, flags: TCP_SYN });
  }
}

/** A QEMU migration stream of `pages` zero pages at descending addresses (every page a new pass). */
export function qemuZeroPages(c: CraftedCapture, pages: number): void {
  const conn = { src: '192.168.60.1', sport: 41000, dst: '192.168.60.2', dport: 49152 };
  let seq = 5000;
  c.tcp({ ...conn, seq, flags: TCP_SYN });
  seq++;
  const send = (b: Uint8Array): void => {
    for (let o = 0; o < b.length; o += 1400) {
      const part = b.subarray(o, Math.min(b.length, o + 1400));
      c.tcp({ ...conn, seq, payload: part, flags: TCP_ACK | TCP_PSH });
      seq = (seq + part.length) >>> 0;
    }
  };
  const w = new Bytes();
  w.u32(QEMU_VM_FILE_MAGIC); w.u32(QEMU_VM_FILE_VERSION);
  w.u8(QemuSection.Start); w.u32(2); w.str8('ram'); w.u32(0); w.u32(4);
  const ram = BigInt(pages) * BigInt(TARGET_PAGE);
  w.u64(ram | BigInt(RamFlag.MemSize)); w.str8('pc.ram'); w.u64(ram); w.u64(BigInt(RamFlag.Eos));
  send(w.take());
  const PER_PART = 1000;
  for (let p0 = 0; p0 < pages; p0 += PER_PART) {
    w.u8(QemuSection.Part); w.u32(2);
    for (let k = 0; k < PER_PART && p0 + k < pages; k++) {
      const addr = BigInt(pages - 1 - (p0 + k)) * BigInt(TARGET_PAGE);
      w.u64(addr | BigInt(RamFlag.Zero | (k === 0 ? 0 : RamFlag.Continue)));
      if (k === 0) w.str8('pc.ram');
      w.u8(0);
    }
    w.u64(BigInt(RamFlag.Eos));
    send(w.take());
  }
}

/** REMOTE_PROC_DOMAIN_MIGRATE_PREPARE3 (remote_protocol.x). */
const PROC_PREPARE3 = 211;

/** A libvirt PREPARE3 call whose domain XML is `<domain><name>` and `blanks` spaces (the regex hang). */
export function libvirtBlankXml(c: CraftedCapture, blanks: number): void {
  const conn = { src: '192.168.70.1', sport: 42000, dst: '192.168.70.2', dport: 16509 };
  const x = new XdrWriter();
  x.opaque(new TextEncoder().encode(`<qemu-migration><hostname>${'\t'.repeat(blanks)}`)); // cookie
  x.optionalString(null); // uri_in
  x.uhyper(0n); // flags
  x.optionalString(null); // dname
  x.uhyper(0n); // resource
  x.string(`<domain><name>${' '.repeat(blanks)}`);
  const msg = remoteCall(PROC_PREPARE3, 1, x.bytes());
  let seq = 7000;
  c.tcp({ ...conn, seq, flags: TCP_SYN });
  seq++;
  for (let o = 0; o < msg.length; o += 1400) {
    const part = msg.subarray(o, Math.min(msg.length, o + 1400));
    c.tcp({ ...conn, seq, payload: part, flags: TCP_ACK | TCP_PSH });
    seq = (seq + part.length) >>> 0;
  }
}

class Bytes {
  private parts: number[] = [];
  u8(v: number): void { this.parts.push(v & 255); }
  u32(v: number): void { for (let s = 24; s >= 0; s -= 8) this.u8(v >>> s); }
  u64(v: bigint): void { this.u32(Number(v >> 32n)); this.u32(Number(v & 0xffffffffn)); }
  str8(s: string): void { this.u8(s.length); for (let i = 0; i < s.length; i++) this.u8(s.charCodeAt(i)); }
  take(): Uint8Array { const b = Uint8Array.from(this.parts); this.parts = []; return b; }
}

export function rng(seed: number): () => number {
  let x = (seed >>> 0) || 1;
  return () => { x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0; return x; };
}

function shuffle(a: number[], seed: number): void {
  const next = rng(seed);
  for (let i = a.length - 1; i > 0; i--) { const j = next() % (i + 1); [a[i], a[j]] = [a[j]!, a[i]!]; }
}
