import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { runRingPipeline } from '../../src/pipeline/ring/run.js';
import type { ProtocolMessage } from '../../src/protocols/types.js';
import { requireCompiledWorker } from './compiled-worker.js';
import { normalise, offlineMessages, phaseEvents } from '../live/helpers.js';
import { writeGeneratedTrace } from '../live/trace.js';

const dir = mkdtempSync(path.join(tmpdir(), 'migscope-h7-parity-'));
const trace = path.join(dir, 'openstack.pcap');

describe('offline file: native ring + workers = pure-TS path', () => {
  let reference: string[] = [];
  let referenceEvents: string[] = [];
  let packets = 0;
  beforeAll(async () => {
    requireCompiledWorker();
    packets = writeGeneratedTrace(trace).packets;
    const messages = await offlineMessages(trace);
    reference = normalise(messages);
    referenceEvents = phaseEvents(messages);
  }, 120_000);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('the reference holds every protocol the trace carries', () => {
    // libvirt joins the list once its analyzer is registered (the parity checks below cover it then).
    for (const p of ['http', 'amqp', 'qemu', 'icmp', 'arp', 'tcp']) {
      expect(reference.some((m) => m.includes(`"protocol":"${p}"`)), p).toBe(true);
    }
    expect(referenceEvents.some((e) => e.includes('"type":"migration-ended"'))).toBe(true);
  });

  for (const workers of [1, 2, 3]) {
    it(`gives the same protocol messages in the same order with ${workers} worker(s)`, async () => {
      const got: ProtocolMessage[] = [];
      const res = await runRingPipeline({ source: { kind: 'file', path: trace }, workers, onMessage: (m) => got.push(m) });
      expect(res.stats.packets).toBe(packets);
      expect(res.workers.reduce((a, w) => a + w.packets, 0)).toBe(packets);
      expect(res.stats.rings.every((r) => r.dropped === 0)).toBe(true);
      if (workers > 1) expect(res.workers.filter((w) => w.packets > 0).length).toBe(workers);
      expect(normalise(got)).toEqual(reference);
      expect(phaseEvents(got)).toEqual(referenceEvents);
    });
  }
});
