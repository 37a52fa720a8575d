import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import {
  CaptureError, CapturePermissionError, FilterError, MigscopeError, SourceNotFoundError,
} from '../../core/errors.js';
import { availableInterfaceNames } from './devices.js';
import * as L from './ring-layout.js';

/** Where a capture reads from (the addon's view of runRingPipeline's sources). */
export type NativeSource =
  | { kind: 'file'; path: string; filter?: string }
  | { kind: 'iface'; name: string; filter?: string; snaplen?: number; promisc?: boolean; bufferSize?: number; netns?: string; timeoutMs?: number; immediate?: boolean }
  | { kind: 'dpmi-iface'; name: string; mampid?: string; multicast?: string; promisc?: boolean; bufferSize?: number; netns?: string; timeoutMs?: number }
  /** Test producer: `count` deterministic records (see native/capture_session.h). */
  | { kind: 'synthetic'; count: number; minLen: number; maxLen: number; blockWhenFull?: boolean };

export interface RingCounters { written: number; dropped: number; droppedBytes: number }

export interface NativeCaptureStats {
  /** Packets (DPMI: inner capture records) and captured bytes the capture thread saw. */
  packets: number;
  bytes: number;
  /** pcap_stats: ps_recv, ps_drop (kernel buffer full), ps_ifdrop (interface). */
  kernelReceived: number;
  kernelDrops: number;
  interfaceDrops: number;
  dpmiFrames: number;
  dpmiLostFrames: number;
  dpmiDuplicateFrames: number;
  dpmiMalformedFrames: number;
  dpmiFilteredRecords: number;
  /** Times a file read waited for a consumer (files never drop). */
  blockedWaits: number;
  linkType: number;
  rings: RingCounters[];
}

interface AddonCapture {
  start(): void;
  stop(): void;
  stats(): NativeCaptureStats;
}
interface Addon {
  pcapVersion(): string;
  /** Every constant of native/ring_format.h, by name (see RING_LAYOUT_CONSTANTS). */
  ringLayout: Record<string, number>;
  Capture: new (options: Record<string, unknown>, rings: Uint8Array[], onEnd: (err: string | null) => void) => AddonCapture;
  /** AF_PACKET rings read in place (native/packet_ring.h; wrapped by ./packet-ring.ts). */
  openPacketRings(options: Record<string, unknown>): { ids: number[]; linkType: number; fanout: number };
  packetRingView(id: number): { buffer: ArrayBuffer; blockSize: number; blockCount: number; linkType: number; loopback: boolean; readers: number };
  packetRingNext(id: number, reader: number): number;
  packetRingRelease(id: number, reader: number): void;
  packetRingWait(id: number, reader: number, timeoutUs: number): number;
  packetRingFrontier(id: number, reader: number, baseSec: number): number;
  packetRingStats(id: number): { received: number; drops: number; freezes: number };
  packetRingArm(id: number): void;
  packetRingStop(id: number): void;
  packetRingWake(id: number, reader: number): void;
  packetRingClose(id: number): void;
}

let cached: Addon | undefined;

function addonPath(): string {
  // src/ingest/live/native.ts or dist/src/ingest/live/native.js: find the repo root.
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    if (existsSync(path.join(dir, 'binding.gyp'))) break;
    dir = path.dirname(dir);
  }
  return path.join(dir, 'build', 'Release', 'migscope_native.node');
}

/** Loads build/Release/migscope_native.node (throws CaptureError naming the fix if absent). */
export function loadNative(): Addon {
  if (cached) return cached;
  const file = addonPath();
  if (!existsSync(file)) {
    throw new CaptureError(`native capture addon not built (${file} missing): run \`npm run build:native\` (needs libpcap-dev)`);
  }
  const addon = createRequire(import.meta.url)(file) as Addon;
  const differ = ringLayoutMismatches(addon.ringLayout);
  if (differ.length > 0) {
    throw new CaptureError(`native addon ring layout differs from src/ingest/live/ring-layout.ts (${differ.join(', ')}): rebuild it`);
  }
  cached = addon;
  return addon;
}

/** The addon's name for each constant of ring-layout.ts: all are compared at load. */
const RING_LAYOUT_CONSTANTS: Readonly<Record<string, number>> = {
  magic: L.RING_MAGIC, controlBytes: L.CONTROL_BYTES,
  offHead: L.OFF_HEAD, offTail: L.OFF_TAIL, offMagic: L.OFF_MAGIC, offCapacity: L.OFF_CAPACITY,
  offDropRecords: L.OFF_DROP_RECORDS, offDropBytes: L.OFF_DROP_BYTES, offProducerDone: L.OFF_PRODUCER_DONE,
  offSeqFrontier: L.OFF_SEQ_FRONTIER, recordHeaderBytes: L.RECORD_HEADER_BYTES,
  recLength: L.REC_LENGTH, recKind: L.REC_KIND, recLinkType: L.REC_LINK_TYPE, recCaplen: L.REC_CAPLEN,
  recWireLength: L.REC_WIRE_LENGTH, recSec: L.REC_SEC, recPsec: L.REC_PSEC, recSeq: L.REC_SEQ,
  recNic: L.REC_NIC, recMampid: L.REC_MAMPID,
  kindPacket: L.RecordKind.Packet, kindWrap: L.RecordKind.Wrap, kindEof: L.RecordKind.Eof,
};

/** `name native≠ts` for every constant that differs or that one side lacks. */
export function ringLayoutMismatches(native: Readonly<Record<string, number>>): string[] {
  const out: string[] = [];
  for (const [name, ts] of Object.entries(RING_LAYOUT_CONSTANTS)) {
    if (native[name] !== ts) out.push(`${name} ${String(native[name])}≠${ts}`);
  }
  for (const name of Object.keys(native)) if (!(name in RING_LAYOUT_CONSTANTS)) out.push(`${name} unknown to ring-layout.ts`);
  return out;
}

export function nativeAvailable(): boolean {
  try { loadNative(); return true; } catch { return false; }
}

export interface NativeCapture {
  start(): void;
  /** Breaks the capture loop and joins the thread; every ring then gets its EOF record. */
  stop(): void;
  stats(): NativeCaptureStats;
  /** Resolves when the capture thread ended (EOF, stop); rejects on a capture error. */
  readonly ended: Promise<void>;
}

/**
 * libpcap's read timeout on live sources. With TPACKET_V3 (see native/addon.cc) the
 * kernel hands over a block when it is full or this many ms after its first packet, so
 * at low rates it is the floor of event latency: measured on a veth at wire speed,
 * marker → event p50 was 28–36 ms with 50 ms, 3.2 ms with 2 ms. Busy links fill blocks
 * long before, so throughput does not change; an idle link costs no wake-ups.
 */
export const LIVE_BLOCK_TIMEOUT_MS = 2;

/** Opens a source onto `rings` (synchronously: bad names, rights and filters throw here). */
export function openNativeCapture(source: NativeSource, rings: Uint8Array[]): NativeCapture {
  const addon = loadNative();
  const options: Record<string, unknown> = { ...source };
  if (source.kind === 'file') options.target = source.path;
  if (source.kind === 'iface' || source.kind === 'dpmi-iface') {
    options.target = source.name;
    options.timeoutMs = source.timeoutMs ?? LIVE_BLOCK_TIMEOUT_MS;
  }
  let resolveEnd!: () => void;
  let rejectEnd!: (e: Error) => void;
  const ended = new Promise<void>((res, rej) => { resolveEnd = res; rejectEnd = rej; });
  ended.catch(() => undefined); // observed by whoever awaits it; never an unhandled rejection
  let handle: AddonCapture;
  try {
    handle = new addon.Capture(options, rings, (err) => {
      if (err === null) resolveEnd(); else rejectEnd(new CaptureError(`capture failed: ${err}`));
    });
  } catch (e) {
    throw toTypedError(e, source);
  }
  return { start: () => handle.start(), stop: () => handle.stop(), stats: () => handle.stats(), ended };
}

/** The addon's error codes (NOT_FOUND, PERMISSION, BAD_FILTER …) as migscope's typed errors. */
export function toTypedError(e: unknown, source: NativeSource): MigscopeError {
  const code = (e as { code?: string }).code;
  const msg = e instanceof Error ? e.message : String(e);
  const what = source.kind === 'file' ? source.path : source.kind === 'synthetic' ? 'synthetic' : source.name;
  // libpcap opens the packet socket before it looks the device up, so without the right
  // a misspelt name reads as "permission denied": check the name first (listing devices
  // needs no privilege). Inside another namespace our device list would be the wrong one.
  const live = source.kind === 'iface' || source.kind === 'dpmi-iface';
  if (live && source.netns === undefined && (code === 'NOT_FOUND' || code === 'PERMISSION')) {
    const names = availableInterfaceNames();
    if (code === 'NOT_FOUND' || (names !== undefined && !names.includes(what))) {
      const list = names === undefined ? '' : names.length > 0 ? ` (available: ${names.join(', ')}; see \`migscope interfaces\`)` : ' (no capture devices visible)';
      return new SourceNotFoundError(`interface ${what} not found${list}`);
    }
  }
  switch (code) {
    case 'NOT_FOUND':
      return new SourceNotFoundError(`${source.kind === 'file' ? 'capture file' : 'interface'} ${what} not found: ${msg}`);
    case 'PERMISSION':
      return new CapturePermissionError(
        `no permission to capture on ${what}: needs CAP_NET_RAW (run as root, or \`setcap cap_net_raw+eip "$(readlink -f "$(command -v node)")"\`): ${msg}`);
    case 'PROMISC_PERMISSION':
      return new CapturePermissionError(`no permission for promiscuous mode on ${what}: needs CAP_NET_RAW (${msg})`);
    case 'BAD_FILTER':
      return new FilterError(msg);
    default:
      return new CaptureError(`cannot open ${what}: ${msg}`);
  }
}
