import { startRingPipeline, type RingPipelineOptions, type RingPipelineStats } from '../../src/pipeline/ring/run.js';
import { copyCounters } from '../../src/ingest/mapped-file.js';
import type { ProtocolMessage } from '../../src/protocols/types.js';
import { replay, type VethPair } from './netns.js';

/** Replayed packets carry new capture times: compare everything but bigint times. */
export const timeless = (lines: string[]): string[] => lines.map((l) => l.replace(/"-?\d+n"/g, '"T"'));
/**
 * Progress samples are paced by wire time (one per ~125 ms), and convergence estimates
 * are rates from pass durations: a --topspeed replay compresses both ~70×. Compare all
 * other phase events.
 */
export const unpaced = (lines: string[]): string[] => lines.filter((l) => !l.includes('"type":"progress"') && !l.includes('"type":"convergence"'));

/**
 * Captures `pair`'s receiving side (AF_PACKET, 2 workers, unless `extra` says otherwise)
 * while `file` is replayed at top speed; waits (bounded) for `expectPackets`, then stops.
 * `copied`: packet bytes any capture path copied meanwhile.
 */
export async function captureLive(pair: VethPair, file: string, expectPackets: number, extra: Partial<RingPipelineOptions> = {}) {
  const messages: ProtocolMessage[] = [];
  let last: RingPipelineStats | undefined;
  const copiedBefore = copyCounters()!.bytesCopied;
  const run = startRingPipeline({
    source: { kind: 'iface', name: pair.rxIf, netns: pair.rxNs }, workers: 2, capture: 'af-packet',
    onMessage: (m) => messages.push(m), onStats: (s) => { last = s; }, statsIntervalMs: 50, ...extra,
  });
  try {
    await run.ready; // AF_PACKET: every worker warmed up, the sockets armed
    if (extra.capture !== undefined && extra.capture !== 'af-packet') await new Promise((r) => setTimeout(r, 200)); // libpcap: its thread up
    replay(pair, file);
    const deadline = Date.now() + 20_000;
    while ((last?.packets ?? 0) < expectPackets && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  } finally {
    run.stop();
  }
  const res = await run.done;
  return { messages, res, copied: copyCounters()!.bytesCopied - copiedBefore };
}
