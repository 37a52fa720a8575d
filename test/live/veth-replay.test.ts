import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startRingPipeline, type RingPipelineStats, type RingSource } from '../../src/pipeline/ring/run.js';
import type { ProtocolMessage } from '../../src/protocols/types.js';
import { requireCompiledWorker } from '../native/compiled-worker.js';
import { anomalyTotals, isCI, normalise, offlineMessages, phaseEvents, requirement, splitAnomalyEvents, withoutAnomalies } from './helpers.js';
import { createVethPair, replay, type VethPair } from './netns.js';
import { writeGeneratedTrace } from './trace.js';

const missing = requirement();
if (missing && !isCI) console.log(`skipping live veth tests: ${missing}`);

/** Replayed packets carry new capture times: compare everything but bigint times. */
const timeless = (lines: string[]): string[] => lines.map((l) => l.replace(/"-?\d+n"/g, '"T"'));
/**
 * Progress samples are paced by wire time (one per ~125 ms), which a --topspeed replay
 * compresses ~70×: compare all other phase events.
 */
const unpaced = (lines: string[]): string[] => lines.filter((l) => !l.includes('"type":"progress"'));

/** Starts the capture, replays `file` into the veth, waits (bounded) for every packet. */
async function captureReplay(pair: VethPair, source: RingSource, file: string, expectPackets: number, workers: number) {
  const messages: ProtocolMessage[] = [];
  let last: RingPipelineStats | undefined;
  const run = startRingPipeline({ source, workers, onMessage: (m) => messages.push(m), onStats: (s) => { last = s; }, statsIntervalMs: 50 });
  try {
    await new Promise((r) => setTimeout(r, 200)); // capture thread and workers up
    replay(pair, file);
    const deadline = Date.now() + 20_000;
    while ((last?.packets ?? 0) < expectPackets && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  } finally {
    run.stop();
  }
  const res = await run.done;
  return { messages, res };
}

describe.skipIf(missing !== undefined && !isCI)('live capture on a veth between two namespaces', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'migscope-h7-live-'));
  let pair: VethPair | undefined;
  beforeAll(() => {
    if (missing) throw new Error(missing);
    requireCompiledWorker();
    pair = createVethPair(String(process.pid % 100000));
  }, 120_000);
  afterAll(() => {
    pair?.remove();
    rmSync(dir, { recursive: true, force: true });
  });

  it('iface: replayed trace gives the offline messages and phase events, no ring drops', async () => {
    const file = path.join(dir, 'openstack.pcap');
    const { packets } = writeGeneratedTrace(file, 'pcap');
    const reference = await offlineMessages(file);
    const { messages, res } = await captureReplay(pair!, { kind: 'iface', name: pair!.rxIf, netns: pair!.rxNs }, file, packets, 2);
    expect(res.stats.packets).toBe(packets);
    expect(res.stats.rings.map((r) => r.dropped)).toEqual([0, 0]);
    expect(res.stats.kernelDrops).toBe(0); // reported by pcap_stats; 13k packets fit the 32 MiB buffer
    expect(res.stats.kernelReceived).toBeGreaterThanOrEqual(packets);
    expect(timeless(normalise(messages))).toEqual(timeless(normalise(reference)));
    expect(timeless(unpaced(phaseEvents(messages)))).toEqual(timeless(unpaced(phaseEvents(reference))));
  });

  it('dpmi-iface: measurement frames give the same messages, timestamps included', async () => {
    const file = path.join(dir, 'openstack-frames.pcap');
    const { packets } = writeGeneratedTrace(file, 'dpmi-frames');
    const reference = await offlineMessages(file); // the TS file source unpacks the frames
    const { messages, res } = await captureReplay(pair!, { kind: 'dpmi-iface', name: pair!.rxIf, netns: pair!.rxNs }, file, packets, 2);
    expect(res.stats.dpmiFrames).toBeGreaterThan(100);
    expect(res.stats.dpmiLostFrames).toBe(0);
    expect(res.stats.dpmiDuplicateFrames).toBe(0);
    expect(res.stats.rings.map((r) => r.dropped)).toEqual([0, 0]);
    // The MP's picosecond timestamps travel inside the frames: exact equality (the
    // snaplen-cut records' hole anomalies are windowed per worker: equal totals).
    expect(normalise(withoutAnomalies(messages))).toEqual(normalise(withoutAnomalies(reference)));
    expect(anomalyTotals(messages)).toEqual(anomalyTotals(reference));
    expect(Object.keys(anomalyTotals(reference)).length).toBeGreaterThan(0);
    // Phase-engine anomaly events carry those windowed counts: same totals, not same cuts.
    const parsed = (lines: string[]) => splitAnomalyEvents(lines.map((l) => JSON.parse(l) as { type: string }));
    expect(parsed(phaseEvents(messages))).toEqual(parsed(phaseEvents(reference)));
  });
});
