import { Decoder, Encoder } from '@msgpack/msgpack';
import { codec, widen } from '../core/msgpack.js';
import type { Picos } from '../core/time.js';
import type { ProtocolMessage } from '../protocols/types.js';
import type { SegmentSighting } from './fingerprint.js';

/**
 * What a measurement point publishes, in one sequence per MP (seq 1, 2, 3 … without
 * gaps): the aggregator restores each MP's order from `seq` whatever order the records
 * reach it in, and drops a record it already has.
 */
interface RecordBase {
  mp: string;
  seq: number;
}

/**
 * A protocol message as the MP's Dissector emitted it. `wire` is the timestamp of the
 * packet being dissected when it was emitted (≥ msg.ts): non-decreasing within an MP,
 * the key the aggregator merges MPs by.
 */
export interface MessageRecord extends RecordBase { t: 'msg'; wire: Picos; msg: ProtocolMessage }
/** Sampled TCP segment sightings for the clock-offset estimator. */
export interface SightingsRecord extends RecordBase { t: 'seg'; sightings: SegmentSighting[] }
/** Everything up to `watermark` (MP wire time) has been published. */
export interface HeartbeatRecord extends RecordBase { t: 'hb'; watermark: Picos }
/** The MP's sources are exhausted: nothing more will come (until a new run). */
export interface EndRecord extends RecordBase { t: 'end'; watermark: Picos }

export type MpRecord = MessageRecord | SightingsRecord | HeartbeatRecord | EndRecord;

const encoder = new Encoder({ useBigInt64: true, ignoreUndefined: true, extensionCodec: codec });
const decoder = new Decoder({ useBigInt64: true, extensionCodec: codec });

/** msgpack with the bigint-safe codec of src/core/msgpack.ts (ps timestamps > 2^64). */
export function encodeRecord(r: MpRecord): Uint8Array {
  return encodeRecordValue(r);
}

/** Any value (an event) in the same encoding; read back with decodeMsgpackStream. */
export function encodeRecordValue(v: unknown): Uint8Array {
  return Uint8Array.from(encoder.encode(widen(v)));
}

/** Decodes and checks the envelope; the message itself is trusted to be ours. */
export function decodeRecord(bytes: Uint8Array): MpRecord | string {
  let v: unknown;
  try {
    v = decoder.decode(bytes);
  } catch (err) {
    return `undecodable record: ${(err as Error).message}`;
  }
  if (v === null || typeof v !== 'object') return 'record is not a map';
  const r = v as Record<string, unknown>;
  if (typeof r.mp !== 'string' || r.mp.length === 0 || r.mp.length > 200) return 'record without an MP name';
  if (typeof r.seq !== 'number' || !Number.isSafeInteger(r.seq) || r.seq < 1) return 'record without a sequence number';
  switch (r.t) {
    case 'msg':
      if (typeof r.wire !== 'bigint' || r.msg === null || typeof r.msg !== 'object') return 'message record without wire time or message';
      return r as unknown as MessageRecord;
    case 'seg':
      if (!Array.isArray(r.sightings)) return 'sightings record without sightings';
      return r as unknown as SightingsRecord;
    case 'hb':
    case 'end':
      if (typeof r.watermark !== 'bigint') return 'heartbeat without watermark';
      return r as unknown as HeartbeatRecord | EndRecord;
    default:
      return `unknown record type '${String(r.t)}'`;
  }
}
