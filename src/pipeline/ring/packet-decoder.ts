import type { CapturedPacket } from '../../ingest/types.js';
import type { Emit } from '../../protocols/types.js';
import { CaptureError } from '../../core/errors.js';
import type { WorkerDecoder } from './protocol.js';

/** What a decode worker runs per packet: the dissector, or a counting stand-in. */
export interface PacketDecoder {
  packet(pkt: CapturedPacket): void;
  /** End of capture: flush open flows (their messages are emitted now). */
  finish(): void;
}

interface DissectorLike {
  packet(pkt: CapturedPacket): void;
  finish(): void;
}
type DissectorCtor = new (opts: { emit: Emit }) => DissectorLike;

/** Creates the worker's decoder; the dissector module is loaded lazily (H3's lane). */
export async function createPacketDecoder(kind: WorkerDecoder, emit: Emit): Promise<PacketDecoder> {
  if (kind === 'count') return { packet: () => undefined, finish: () => undefined };
  const spec = '../../decode/dissector.js';
  let mod: { Dissector?: DissectorCtor };
  try {
    mod = (await import(spec)) as { Dissector?: DissectorCtor };
  } catch (e) {
    throw new CaptureError(`decode worker: cannot load the dissector (${spec})`, { cause: e });
  }
  if (typeof mod.Dissector !== 'function') throw new CaptureError('decode worker: dissector module has no Dissector');
  return new mod.Dissector({ emit });
}
