import type { Picos } from '../../core/time.js';
import { pcDevices, type QemuStreamPlan, type RamPass, TARGET_PAGE } from '../wire/qemu-stream.js';
import type { Rng } from '../rng.js';

export interface StreamModelInput {
  ramBytes: number;
  vcpus: number;
  load: number;
  linkGbps: number;
  payloadScale: number;
  /** SYN of the stream connection and its first FIN (the Transfer phase). */
  synAt: Picos;
  finAt: Picos;
  downtime: number;
  abortAfter?: number;
  /** Replaces the load-derived dirty ratio (≥ 1: passes never shrink). */
  dirtyRatio?: number;
  rng: Rng;
}

export interface StreamModel {
  plan: QemuStreamPlan;
  /** When the VM pauses (END(ram) starts) and how long stop-and-copy takes on the wire. */
  pauseAt: Picos;
  stopCopySeconds: number;
  dirtyRatio: number;
}

const SETUP_S = 0.002;
const TAIL_S = 0.001;
const PAGE_RECORD = 8 + TARGET_PAGE;
const ZERO_RECORD = 9;

const ps = (s: number): Picos => BigInt(Math.round(s * 1e12));

/**
 * Pre-copy model. Stream goodput g = 90 % of the link's TCP payload rate. Each pass
 * re-sends the pages dirtied during the previous one: pass k+1 = r × pass k with
 * r = dirty rate / g (dirty rate grows with CPU load and vCPUs). Passes continue until
 * the remainder fits the stop-and-copy share (35 %) of the drawn downtime; pass 1's
 * size is solved so that all pre-copy passes fill the drawn Transfer time, which fixes
 * the share of non-zero pages. With payload scale F only F of the pages are encoded
 * (spread over the whole RAM block, so addresses and pass wrap-around stay real) while
 * the pass times stay: the trace keeps the phase timing at F of the volume.
 */
export function streamModel(inp: StreamModelInput): StreamModel {
  const g = ((inp.linkGbps * 1e9) / 8) * (1448 / (1514 + 24)) * 0.9;
  const totalPages = Math.floor(inp.ramBytes / TARGET_PAGE);
  const devices = pcDevices(inp.vcpus);
  const deviceBytes = devices.reduce((a, d) => a + d.size + 14 + d.idstr.length, 0);
  const r = inp.dirtyRatio ?? Math.min(0.7, (0.01 + (inp.load / 100) * (0.1 + 0.05 * inp.vcpus)) / inp.linkGbps);
  const transferS = Number(inp.finAt - inp.synAt) / 1e12;
  const lastLimit = Math.max(2 * PAGE_RECORD, g * 0.35 * inp.downtime - deviceBytes);
  let budget = g * Math.max(0.01, transferS - SETUP_S - TAIL_S - 0.35 * inp.downtime);
  // Solve pass 1 (P) and the pass count n: P(1 + r + … + r^(n-2)) = budget, P r^(n-1) ≤ lastLimit.
  let P = budget;
  let n = 2;
  for (let iter = 0; iter < 40; iter++) {
    n = 2;
    while (n < 30 && P * r ** (n - 1) > lastLimit) n++;
    // Geometric sum of n−1 passes; r = 1 (equal passes) is its limit budget / (n−1).
    const next = r > 0 && Math.abs(1 - r) > 1e-9 ? (budget * (1 - r)) / (1 - r ** (n - 1)) : r > 0 ? budget / (n - 1) : budget;
    if (Math.abs(next - P) < 1) break;
    P = next;
  }
  const maxP = totalPages * PAGE_RECORD;
  if (P > maxP) P = maxP;
  const usedFraction = Math.min(1, Math.max(0.002, (P / totalPages - ZERO_RECORD) / (PAGE_RECORD - ZERO_RECORD)));
  const finalBytes = Math.max(2 * PAGE_RECORD, P * r ** (n - 1));
  const stopCopySeconds = (finalBytes + deviceBytes) / g;
  budget = g * Math.max(0.01, transferS - SETUP_S - TAIL_S - stopCopySeconds);

  const sampleCount = Math.max(64, Math.round(totalPages * inp.payloadScale));
  const scale = sampleCount / totalPages;
  const pauseAt = inp.finAt - ps(TAIL_S + stopCopySeconds);
  const precopyStart = inp.synAt + ps(SETUP_S);
  const passSizes: number[] = [];
  for (let k = 0; k < n - 1; k++) passSizes.push(P * r ** k);
  const sizeSum = passSizes.reduce((a, b) => a + b, 0);
  const span = pauseAt - precopyStart;
  const precopy: RamPass[] = [];
  let acc = 0;
  passSizes.forEach((bytes, k) => {
    const start = precopyStart + (span * BigInt(Math.round((acc / sizeSum) * 1e9))) / 1_000_000_000n;
    acc += bytes;
    const end = precopyStart + (span * BigInt(Math.round((acc / sizeSum) * 1e9))) / 1_000_000_000n;
    const count = k === 0 ? sampleCount : Math.min(sampleCount, Math.max(2, Math.round((bytes / PAGE_RECORD) * scale)));
    const offset = k === 0 ? 0 : inp.rng.u32() % Math.max(1, Math.floor(sampleCount / count));
    precopy.push({ count, offset, first: k === 0, start, end });
  });
  const finalCount = Math.min(sampleCount, Math.max(2, Math.round((finalBytes / PAGE_RECORD) * scale)));
  const finalEnd = pauseAt + ps((finalBytes / g));
  const final: RamPass = {
    count: finalCount, offset: inp.rng.u32() % Math.max(1, Math.floor(sampleCount / finalCount)), first: false,
    start: pauseAt, end: finalEnd,
  };
  const plan: QemuStreamPlan = {
    machine: 'pc-i440fx-7.2', ramBytes: inp.ramBytes, sampleCount, usedFraction, setupAt: inp.synAt + ps(0.0005),
    precopy, final, stopCopyEnd: inp.finAt - ps(TAIL_S), devices, seed: inp.rng.u32(),
    ...(inp.abortAfter !== undefined ? { abortAfter: inp.abortAfter } : {}),
  };
  return { plan, pauseAt, stopCopySeconds, dirtyRatio: r };
}
