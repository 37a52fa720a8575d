import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startRingPipeline } from '../../src/pipeline/ring/run.js';
import { captureLive, timeless, unpaced } from './capture.js';
import type { ProtocolMessage } from '../../src/protocols/types.js';
import { requireCompiledWorker } from '../native/compiled-worker.js';
import { isCI, normalise, offlineMessages, phaseEvents, requirement } from './helpers.js';
import { createVethPair, replay, type VethPair } from './netns.js';
import { writeGeneratedTrace } from './trace.js';

/**
 * The zero-copy live path: each decode worker reads its own AF_PACKET ring (one socket
 * of a PACKET_FANOUT group) in place. Checked against the offline analysis of the same
 * generated trace replayed over a veth between two namespaces the test creates.
 */
const missing = requirement();
if (missing && !isCI) console.log(`skipping AF_PACKET veth tests: ${missing}`);

/** Connection endpoints without direction: "a|b" with a < b. */
function connection(m: ProtocolMessage): string {
  const a = `${m.src.ip}:${m.src.port}`;
  const b = `${m.dst.ip}:${m.dst.port}`;
  return a < b ? `${a}|${b}` : `${b}|${a}`;
}

describe.skipIf(missing !== undefined && !isCI)('AF_PACKET fanout rings on a veth, read in place', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'migscope-afp-'));
  let pair: VethPair | undefined;
  beforeAll(() => {
    if (missing) throw new Error(missing);
    requireCompiledWorker();
    pair = createVethPair(`a${process.pid % 10000}`);
  }, 120_000);
  afterAll(() => {
    pair?.remove();
    rmSync(dir, { recursive: true, force: true });
  });

  it('--workers 2: the offline messages and phase events, no drops, no byte copied, both directions of each flow in one worker', async () => {
    const file = path.join(dir, 'openstack.pcap');
    const { packets } = writeGeneratedTrace(file, 'pcap');
    const reference = await offlineMessages(file);
    const { messages, res, copied } = await captureLive(pair!, file, packets);
    expect(res.stats.capturePath).toBe('af-packet');
    expect(res.stats.packets).toBe(packets);
    expect(res.stats.sockets).toHaveLength(2);
    expect(res.stats.kernelDrops).toBe(0);
    expect(res.stats.sockets!.map((s) => s.drops)).toEqual([0, 0]);
    expect(res.stats.kernelReceived).toBe(packets);
    // The workers read the kernel's ring memory itself: the addon copied no packet byte.
    expect(copied).toBe(0);
    // Both sockets got flows: the fanout split the capture.
    expect(res.workers.every((w) => w.packets > 0)).toBe(true);
    expect(timeless(normalise(messages))).toEqual(timeless(normalise(reference)));
    expect(timeless(unpaced(phaseEvents(messages)))).toEqual(timeless(unpaced(phaseEvents(reference))));

    // Fanout symmetry: every TCP connection whose messages go both ways was decoded by
    // one worker (flow ids carry the worker index: id mod W).
    const byConnection = new Map<string, { workers: Set<number>; senders: Set<string> }>();
    for (const m of messages) {
      if (m.flowId < 0 || m.protocol === 'anomaly') continue;
      const k = connection(m);
      const e = byConnection.get(k) ?? { workers: new Set<number>(), senders: new Set<string>() };
      e.workers.add(m.flowId % 2);
      e.senders.add(`${m.src.ip}:${m.src.port}`);
      byConnection.set(k, e);
    }
    const twoWay = [...byConnection.values()].filter((e) => e.senders.size === 2);
    expect(twoWay.length).toBeGreaterThanOrEqual(4);
    expect(twoWay.filter((e) => e.workers.size !== 1)).toEqual([]);
    expect(new Set(twoWay.map((e) => [...e.workers][0])).size).toBe(2); // flows in both workers
  }, 60_000);

  it('--workers 1: one socket, no fanout group, the offline messages and events, no byte copied', async () => {
    const file = path.join(dir, 'openstack-1.pcap');
    const { packets } = writeGeneratedTrace(file, 'pcap');
    const reference = await offlineMessages(file);
    const { messages, res, copied } = await captureLive(pair!, file, packets, { workers: 1 });
    expect(res.stats.capturePath).toBe('af-packet');
    expect(res.stats.sockets).toHaveLength(1);
    expect(res.stats.packets).toBe(packets);
    expect(res.stats.kernelDrops).toBe(0);
    expect(copied).toBe(0);
    expect(timeless(normalise(messages))).toEqual(timeless(normalise(reference)));
    expect(timeless(unpaced(phaseEvents(messages)))).toEqual(timeless(unpaced(phaseEvents(reference))));
  }, 60_000);

  it('a decode worker that crashes fails the run with a clear error, without hanging', async () => {
    const file = path.join(dir, 'openstack-crash.pcap');
    writeGeneratedTrace(file, 'pcap');
    const run = startRingPipeline({
      source: { kind: 'iface', name: pair!.rxIf, netns: pair!.rxNs }, workers: 2, capture: 'af-packet',
      onMessage: () => undefined, crashWorker: { worker: 0, packets: 20 },
    });
    const done = run.done;
    done.catch(() => undefined);
    await run.ready;
    replay(pair!, file);
    // Bounded: the test's own timeout; the run must end by itself, with the worker named.
    await expect(done).rejects.toThrow(/decode worker 0 crashed: fault injection: worker 0 crashes after 20 packets/);
  }, 60_000);
});
