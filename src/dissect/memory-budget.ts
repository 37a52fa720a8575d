import type { Picos } from '../core/time.js';

/**
 * One memory budget (`--max-memory`) for all per-flow state of a Dissector: flow
 * records, out-of-order reassembly ranges (bookkeeping included), bytes held before a
 * decoder is chosen, and decoder state. Costs are estimates in bytes measured on Node 20
 * (test/hostile/memory.test.ts holds them against process.memoryUsage()). When `used`
 * passes `max`, the Dissector sheds the least recently useful state and counts it as a
 * `memory-shed` anomaly naming what was dropped.
 */
export class MemoryBudget {
  used = 0;
  /** Flows holding out-of-order bytes, in the order they started holding (oldest first). */
  readonly holders = new Set<FlowBudget>();

  constructor(readonly max: number) {}

  get exceeded(): boolean {
    return this.used > this.max;
  }
}

/** Default `--max-memory`: 256 MiB. */
export const DEFAULT_MAX_MEMORY = 256 * 1024 * 1024;

/** Flows one capture keeps at once (the least recently used is evicted past it). */
export const DEFAULT_MAX_FLOWS = 100_000;

/** What one Dissector may hold: bytes of per-flow state and flows. */
export interface DissectorLimits { maxMemory: number; maxFlows: number }

/**
 * One worker's share when `workers` Dissectors split the flows of one capture: the
 * byte budget and the flow limit are both divided, so W workers hold what one
 * Dissector would (each worker's flows also carry its own heap's overhead).
 */
export function workerLimits(workers: number, maxMemory = DEFAULT_MAX_MEMORY): DissectorLimits {
  return { maxMemory: Math.floor(maxMemory / workers), maxFlows: Math.ceil(DEFAULT_MAX_FLOWS / workers) };
}

/**
 * The out-of-order byte budget of one flow (both directions), inside the global one.
 * `owner` is what the Dissector sheds when the global budget runs out.
 */
export class FlowBudget {
  used = 0;

  constructor(readonly max: number, private readonly global: MemoryBudget, readonly owner: { shedBuffers(ts: Picos): void }) {}

  charge(delta: number): void {
    const before = this.used;
    this.used += delta;
    this.global.used += delta;
    if (before <= 0 && this.used > 0) this.global.holders.add(this);
    else if (before > 0 && this.used <= 0) this.global.holders.delete(this);
  }
}
