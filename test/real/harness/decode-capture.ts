import { Dissector } from '../../../src/dissect/dissector.js';
import { openCapture } from '../../../src/ingest/index.js';
import type { ProtocolMessage } from '../../../src/protocols/types.js';

/** Every protocol message migscope's own pipeline (H2 reader + H3 dissector) finds in a capture file. */
export async function decodeCaptureFile(path: string): Promise<ProtocolMessage[]> {
  const out: ProtocolMessage[] = [];
  const dissector = new Dissector((m) => { out.push(m); });
  const capture = await openCapture(path);
  for await (const batch of capture.batches()) for (const pkt of batch) dissector.packet(pkt);
  dissector.finish();
  return out;
}
