import type { Picos } from '../../core/time.js';
import type { TcpMessage } from './tcp-connection.js';

/** QEMU migration stream constants (migration/savevm.c, migration/ram.c). */
export const QEMU_VM_FILE_MAGIC = 0x5145564d;
export const QEMU_VM_FILE_VERSION = 3;
export const QemuSection = {
  Eof: 0x00, Start: 0x01, Part: 0x02, End: 0x03, Full: 0x04, Subsection: 0x05, VmDescription: 0x06,
  Configuration: 0x07, Command: 0x08, Footer: 0x7e,
} as const;
export const RamFlag = { Zero: 0x02, MemSize: 0x04, Page: 0x08, Eos: 0x10, Continue: 0x20 } as const;

export const TARGET_PAGE = 4096;
export const RAM_BLOCK = 'pc.ram';
const RAM_SECTION_ID = 2;
const PAGES_PER_PART = 16;

/** One RAM pass: `count` of the stream's sampled pages, spread evenly, in address order. */
export interface RamPass {
  count: number;
  /** First sampled index (< sampleCount / count), so each pass starts below where the last ended. */
  offset: number;
  /** Pass 1 sends every sampled page, zero pages as ZERO records; later passes send dirty pages. */
  first: boolean;
  start: Picos;
  end: Picos;
}

export interface DeviceState {
  idstr: string;
  instance: number;
  version: number;
  size: number;
}

export interface QemuStreamPlan {
  machine: string;
  ramBytes: number;
  /** Pages actually encoded per full pass (RAM × payload scale); they map onto the whole block. */
  sampleCount: number;
  /** Share of pages holding data (the rest are zero pages). */
  usedFraction: number;
  setupAt: Picos;
  precopy: RamPass[];
  final: RamPass;
  stopCopyEnd: Picos;
  devices: DeviceState[];
  /** Abort (failed-transfer/cancelled): stop after this share of all pre-copy records. */
  abortAfter?: number;
  seed: number;
}

/** What the stream contained, for the ground truth (bytes as written). */
export interface QemuStreamStats {
  passBytes: number[];
  precopyBytes: number;
  stopCopyBytes: number;
  /** Timestamp plan of the END(ram) section = the VM pause. */
  pauseAt: Picos | undefined;
  completed: boolean;
}

class ByteWriter {
  buf: Uint8Array;
  view: DataView;
  len = 0;
  constructor(size: number) {
    this.buf = new Uint8Array(size);
    this.view = new DataView(this.buf.buffer);
  }
  u8(v: number): void { this.buf[this.len++] = v; }
  u32(v: number): void { this.view.setUint32(this.len, v >>> 0); this.len += 4; }
  u64(v: bigint): void { this.view.setBigUint64(this.len, v); this.len += 8; }
  str8(s: string): void { this.u8(s.length); for (let i = 0; i < s.length; i++) this.u8(s.charCodeAt(i)); }
  bytes(b: Uint8Array): void { this.buf.set(b, this.len); this.len += b.length; }
  out(): Uint8Array { return this.buf.subarray(0, this.len); }
}

/** Deterministic 0..1 hash of a sample index (which pages are zero pages). */
function unitHash(i: number, seed: number): number {
  let x = Math.imul(i ^ seed, 0x9e3779b1) >>> 0;
  x = Math.imul(x ^ (x >>> 15), 0x85ebca6b) >>> 0;
  x = (x ^ (x >>> 13)) >>> 0;
  return x / 4294967296;
}

/** Filler for device state: never 0x7e, so a footer search cannot hit inside it. */
function deviceBytes(n: number, seed: number): Uint8Array {
  const b = new Uint8Array(n);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0;
    const v = x & 0xff;
    b[i] = v === 0x7e ? 0x7f : v;
  }
  return b;
}

/**
 * The QEMU pre-copy stream as a lazy sequence of writes: header + CONFIGURATION +
 * START(ram, MEM_SIZE) at setup, PART(ram) chunks of ≤ 16 pages ended by EOS spread
 * over each pass's time span, END(ram) with the final dirty pages when the VM pauses,
 * FULL device sections, EOF, VMDESCRIPTION. Memory per chunk only.
 */
export function* qemuStream(plan: QemuStreamPlan, stats: QemuStreamStats): Generator<TcpMessage> {
  const totalPages = Math.floor(plan.ramBytes / TARGET_PAGE);
  const pageOf = (sample: number): number => Math.floor((sample * totalPages) / plan.sampleCount);
  const pageData = deviceBytes(TARGET_PAGE, plan.seed ^ 0x5a5a);
  const pageDataView = new DataView(pageData.buffer);

  // Header, configuration, START(ram) with the block list.
  {
    const w = new ByteWriter(256);
    w.u32(QEMU_VM_FILE_MAGIC);
    w.u32(QEMU_VM_FILE_VERSION);
    w.u8(QemuSection.Configuration);
    w.u32(plan.machine.length);
    for (let i = 0; i < plan.machine.length; i++) w.u8(plan.machine.charCodeAt(i));
    w.u8(QemuSection.Start);
    w.u32(RAM_SECTION_ID);
    w.str8('ram');
    w.u32(0); // instance id
    w.u32(4); // ram section version
    w.u64(BigInt(plan.ramBytes) | BigInt(RamFlag.MemSize));
    w.str8(RAM_BLOCK);
    w.u64(BigInt(plan.ramBytes));
    w.u64(BigInt(RamFlag.Eos));
    w.u8(QemuSection.Footer);
    w.u32(RAM_SECTION_ID);
    stats.precopyBytes += w.len;
    yield { t: plan.setupAt, bytes: w.out().slice() };
  }

  const totalPrecopyRecords = plan.precopy.reduce((a, p) => a + p.count, 0);
  const abortAt = plan.abortAfter === undefined ? Infinity : Math.floor(totalPrecopyRecords * plan.abortAfter);
  let emitted = 0;

  const passChunks = function* (pass: RamPass, passIndex: number, sectionType: number): Generator<TcpMessage> {
    const stride = plan.sampleCount / pass.count;
    for (let i0 = 0; i0 < pass.count; i0 += PAGES_PER_PART) {
      const n = Math.min(PAGES_PER_PART, pass.count - i0);
      const w = new ByteWriter(5 + n * (8 + 1 + TARGET_PAGE) + 1 + RAM_BLOCK.length + 8 + 5);
      w.u8(sectionType);
      w.u32(RAM_SECTION_ID);
      for (let k = 0; k < n; k++) {
        const i = i0 + k;
        const sample = pass.first ? i : Math.floor(i * stride) + pass.offset;
        const page = pageOf(sample);
        const zero = pass.first && unitHash(sample, plan.seed) >= plan.usedFraction;
        const flags = (zero ? RamFlag.Zero : RamFlag.Page) | (k === 0 ? 0 : RamFlag.Continue);
        w.u64(BigInt(page) * BigInt(TARGET_PAGE) | BigInt(flags));
        if (k === 0) w.str8(RAM_BLOCK);
        if (zero) w.u8(0);
        else {
          pageDataView.setUint32(0, page);
          pageDataView.setUint32(4, passIndex);
          w.bytes(pageData);
        }
      }
      w.u64(BigInt(RamFlag.Eos));
      w.u8(QemuSection.Footer);
      w.u32(RAM_SECTION_ID);
      const span = pass.end - pass.start;
      const t = pass.start + (span * BigInt(i0)) / BigInt(Math.max(1, pass.count));
      stats.passBytes[passIndex] = (stats.passBytes[passIndex] ?? 0) + w.len;
      yield { t, bytes: w.out() };
      if (sectionType === QemuSection.Part) {
        emitted += n;
        if (emitted >= abortAt) return;
      }
    }
  };

  for (let p = 0; p < plan.precopy.length; p++) {
    for (const m of passChunks(plan.precopy[p]!, p, QemuSection.Part)) {
      stats.precopyBytes += m.bytes.length;
      yield m;
    }
    if (emitted >= abortAt) return;
  }

  // Stop-and-copy: the VM is paused from here on.
  stats.pauseAt = plan.final.start;
  for (const m of passChunks(plan.final, plan.precopy.length, QemuSection.End)) {
    stats.stopCopyBytes += m.bytes.length;
    yield m;
  }
  const span = plan.stopCopyEnd - plan.final.end;
  const devices = plan.devices;
  for (let d = 0; d < devices.length; d++) {
    const dev = devices[d]!;
    const w = new ByteWriter(1 + 4 + 1 + dev.idstr.length + 8 + dev.size + 5);
    w.u8(QemuSection.Full);
    w.u32(RAM_SECTION_ID + 1 + d);
    w.str8(dev.idstr);
    w.u32(dev.instance);
    w.u32(dev.version);
    w.bytes(deviceBytes(dev.size, plan.seed + d));
    w.u8(QemuSection.Footer);
    w.u32(RAM_SECTION_ID + 1 + d);
    stats.stopCopyBytes += w.len;
    yield { t: plan.final.end + (span * BigInt(d)) / BigInt(devices.length + 1), bytes: w.out() };
  }
  const desc = JSON.stringify({
    page_size: TARGET_PAGE,
    devices: devices.map((d) => ({ name: d.idstr, instance_id: d.instance, vmsd_name: d.idstr.split('/').pop(), version: d.version })),
  });
  const w = new ByteWriter(1 + 1 + 4 + desc.length);
  w.u8(QemuSection.Eof);
  w.u8(QemuSection.VmDescription);
  w.u32(desc.length);
  for (let i = 0; i < desc.length; i++) w.u8(desc.charCodeAt(i));
  stats.stopCopyBytes += w.len;
  stats.completed = true;
  yield { t: plan.stopCopyEnd, bytes: w.out() };
}

/** Device sections of a PC guest with `vcpus` CPUs (sizes close to QEMU's vmstate). */
export function pcDevices(vcpus: number): DeviceState[] {
  const list: DeviceState[] = [{ idstr: 'timer', instance: 0, version: 2, size: 24 }];
  for (let i = 0; i < vcpus; i++) list.push({ idstr: 'cpu', instance: i, version: 12, size: 5600 });
  for (let i = 0; i < vcpus; i++) list.push({ idstr: 'apic', instance: i, version: 3, size: 160 });
  list.push(
    { idstr: 'kvmclock', instance: 0, version: 1, size: 17 },
    { idstr: 'fw_cfg', instance: 0, version: 2, size: 8 },
    { idstr: 'PCIBUS', instance: 0, version: 1, size: 20 },
    { idstr: 'I440FX', instance: 0, version: 3, size: 320 },
    { idstr: 'PIIX3', instance: 0, version: 3, size: 320 },
    { idstr: 'i8259', instance: 0, version: 3, size: 22 },
    { idstr: 'i8259', instance: 1, version: 3, size: 22 },
    { idstr: 'mc146818rtc', instance: 0, version: 3, size: 96 },
    { idstr: 'serial', instance: 0, version: 3, size: 30 },
    { idstr: '0000:00:03.0/virtio-net', instance: 0, version: 11, size: 720 },
    { idstr: '0000:00:04.0/virtio-blk', instance: 0, version: 2, size: 420 },
    { idstr: '0000:00:05.0/virtio-balloon', instance: 0, version: 1, size: 60 },
  );
  return list;
}
