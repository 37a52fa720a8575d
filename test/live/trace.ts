import { generateTrace, type GroundTruth } from '../../src/generate/index.js';
import { createCaptureWriter, fileSink } from '../../src/ingest/formats/index.js';
import type { WriteFormat } from '../../src/ingest/types.js';

/**
 * A small generated OpenStack migration (HTTP, AMQP/oslo, libvirt RPC, the QEMU stream,
 * ICMP, RARP): ~13k packets with payloadScale 0.002.
 */
export function writeGeneratedTrace(path: string, format: WriteFormat = 'pcap-ns', seed = 7): GroundTruth {
  const w = createCaptureWriter(format, fileSink(path));
  const truth = generateTrace({ scenario: 'openstack', payloadScale: 0.002, seed }, w);
  w.close();
  return truth;
}
