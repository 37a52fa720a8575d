import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { openCapture } from '../../src/ingest/file-source.js';
import { createCaptureWriter, fileSink } from '../../src/ingest/formats/index.js';
import { generateTrace } from '../../src/generate/index.js';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { RingSource } from '../../src/pipeline/ring/run.js';
import { requireCompiledWorker } from '../native/compiled-worker.js';
import { anomalyTotals, isCI, normalise, offlineMessages, phaseEvents, requirement, splitAnomalyEvents, withoutAnomalies } from './helpers.js';
import { createVethPair, type VethPair } from './netns.js';
import { captureLive, timeless, unpaced } from './capture.js';
import { writeGeneratedTrace } from './trace.js';

const missing = requirement();
if (missing && !isCI) console.log(`skipping live veth tests: ${missing}`);

/** Starts the capture, replays `file` into the veth, waits (bounded) for every packet. */
function captureReplay(pair: VethPair, source: RingSource, file: string, expectPackets: number, workers: number, capture?: 'pcap') {
  return captureLive(pair, file, expectPackets, { source, workers, capture: capture ?? 'auto' });
}

/** The frames (pcap records) of a measurement-frame pcap, as views into `b`. */
function pcapRecords(b: Uint8Array): Uint8Array[] {
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const out: Uint8Array[] = [];
  for (let off = 24; off + 16 <= b.length && out.length < 1_000_000;) {
    const len = 16 + dv.getUint32(off + 8, true);
    out.push(b.subarray(off, off + len));
    off += len;
  }
  return out;
}

/**
 * A measurement-frame trace whose sender wraps (0xFFFE → 0) and then restarts (SENDER_FLUSH
 * on its last frame, the next at 0), as the reference MP does; `drop` frames removed
 * after the restart make a real gap of exactly that many frames.
 */
function wrapRestartTrace(file: string, drop: number): { frames: number; records: number } {
  const raw = `${file}.raw`;
  const w = createCaptureWriter('dpmi-frames', fileSink(raw), { dpmiFrames: { firstSequence: 0xfffe - 40 } });
  generateTrace({ scenario: 'kvm', payloadScale: 0.002, seed: 3 }, w);
  w.close();
  const b = new Uint8Array(readFileSync(raw));
  const recs = pcapRecords(b);
  const restartAt = Math.floor(recs.length / 2);
  expect(restartAt).toBeGreaterThan(100); // past the wrap
  const seqView = (r: Uint8Array) => new DataView(r.buffer, r.byteOffset + 16 + 14, 12);
  seqView(recs[restartAt - 1]!).setUint32(8, 1); // SENDER_FLUSH
  for (let i = restartAt; i < recs.length; i++) seqView(recs[i]!).setUint32(0, i - restartAt);
  const kept = recs.filter((_r, i) => i < restartAt + 10 || i >= restartAt + 10 + drop);
  const nopkts = (r: Uint8Array) => new DataView(r.buffer, r.byteOffset + 16 + 14 + 4, 4).getUint32(0);
  const records = kept.reduce((n, r) => n + nopkts(r), 0);
  // Two frames swapped (late, not lost) and one sent twice (a duplicate, its records dropped).
  [kept[60], kept[61]] = [kept[61]!, kept[60]!];
  kept.splice(80, 0, kept[79]!);
  writeFileSync(file, Buffer.concat([b.subarray(0, 24), ...kept]));
  return { frames: kept.length, records };
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

  // The AF_PACKET path (the default for iface:) is test/live/af-packet.test.ts.
  it('iface --capture pcap (the libpcap fallback): replayed trace gives the offline messages and phase events, no ring drops', async () => {
    const file = path.join(dir, 'openstack.pcap');
    const { packets } = writeGeneratedTrace(file, 'pcap');
    const reference = await offlineMessages(file);
    const { messages, res } = await captureReplay(pair!, { kind: 'iface', name: pair!.rxIf, netns: pair!.rxNs }, file, packets, 2, 'pcap');
    expect(res.stats.capturePath).toBe('libpcap');
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
    const { messages, res, copied } = await captureReplay(pair!, { kind: 'dpmi-iface', name: pair!.rxIf, netns: pair!.rxNs }, file, packets, 2);
    // Both workers read the one socket's AF_PACKET ring and unpack the frames in place.
    expect(res.stats.capturePath).toBe('af-packet');
    expect(copied).toBe(0);
    expect(res.stats.kernelDrops).toBe(0);
    expect(res.stats.dpmiFrames).toBeGreaterThan(100);
    expect(res.stats.dpmiLostFrames).toBe(0);
    expect(res.stats.dpmiDuplicateFrames).toBe(0);
    expect(res.stats.rings.map((r) => r.dropped)).toEqual([0, 0]);
    // The MP's picosecond timestamps travel inside the frames: exact equality (anomalies
    // are windowed per worker: equal totals; records cut to 1448 bytes are not anomalies).
    expect(normalise(withoutAnomalies(messages))).toEqual(normalise(withoutAnomalies(reference)));
    expect(anomalyTotals(messages)).toEqual(anomalyTotals(reference));
    // Phase-engine anomaly events carry those windowed counts: same totals, not same cuts.
    const parsed = (lines: string[]) => splitAnomalyEvents(lines.map((l) => JSON.parse(l) as { type: string }));
    expect(parsed(phaseEvents(messages))).toEqual(parsed(phaseEvents(reference)));
  });
  for (const drop of [0, 5]) {
    it(`dpmi-iface: a sequence wrap, a sender restart, a late and a duplicate frame are no loss${drop ? `; a gap of ${drop} frames is ${drop} lost` : ''}, live as in the file`, async () => {
      const file = path.join(dir, `wrap-restart-${drop}.pcap`);
      const { frames, records } = wrapRestartTrace(file, drop);
      const offline = await openCapture(file);
      let offlinePackets = 0;
      for await (const batch of offline.batches()) offlinePackets += batch.length;
      expect(offline.frameStats).toMatchObject({ frames, lostFrames: drop, duplicateFrames: 1, reorderedFrames: 1, sequenceResets: 1 });
      expect(offlinePackets).toBe(records);
      const { res } = await captureReplay(pair!, { kind: 'dpmi-iface', name: pair!.rxIf, netns: pair!.rxNs }, file, records, 2);
      expect(res.stats.dpmiFrames).toBe(frames);
      expect(res.stats.dpmiLostFrames).toBe(drop);
      expect(res.stats.dpmiDuplicateFrames).toBe(1);
      expect(res.stats.packets).toBe(records);
    });
  }
});
