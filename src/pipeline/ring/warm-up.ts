import { Dissector } from '../../dissect/dissector.js';
import { generateTrace } from '../../generate/index.js';
import type { CaptureWriter } from '../../ingest/types.js';

/**
 * Runs a small generated OpenStack migration (HTTP, AMQP, libvirt RPC, the QEMU stream,
 * ICMP) through a throwaway Dissector, so the decoders are compiled before the first
 * real migration: the first migration after start is not the slow one.
 */
export function warmUpDissector(): number {
  let messages = 0;
  const d = new Dissector(() => { messages++; });
  const sink: CaptureWriter = {
    format: 'pcap-ns', resolution: 1000n,
    write: (ts, data, wireLength) => d.record(data, 0, data.length, wireLength ?? data.length, 1, ts),
    close: () => undefined,
  };
  generateTrace({ scenario: 'openstack', payloadScale: 0.002, seed: 1 }, sink);
  d.finish();
  return messages;
}
