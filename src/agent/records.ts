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

/**
 * One NATS message: a run of an MP's consecutive records, as a msgpack array, with the
 * bigint-safe codec of src/core/msgpack.ts (ps timestamps beyond 2^64). Batching spares
 * the per-publication cost (one JetStream ack per batch); a paced agent sends batches of
 * one or two records, so latency stays that of a packet.
 */
export function encodeRecords(rs: readonly MpRecord[]): Uint8Array {
  return encodeValue(rs);
}

/** Any value (an event) in the same encoding; read back with decodeMsgpackStream. */
export function encodeValue(v: unknown): Uint8Array {
  return Uint8Array.from(encoder.encode(widen(v)));
}

const PROTOCOLS = new Set(['tcp', 'libvirt', 'qemu', 'http', 'amqp', 'icmp', 'arp', 'anomaly']);

/** The MessageBase header the merge relies on; the engine copes with the rest. */
function isMessage(v: unknown): boolean {
  if (v === null || typeof v !== 'object') return false;
  const m = v as Record<string, unknown>;
  const ep = (e: unknown): boolean => e !== null && typeof e === 'object'
    && typeof (e as Record<string, unknown>).ip === 'string' && typeof (e as Record<string, unknown>).port === 'number';
  return typeof m.protocol === 'string' && PROTOCOLS.has(m.protocol) && typeof m.ts === 'bigint' && typeof m.tsEnd === 'bigint'
    && typeof m.flowId === 'number' && ep(m.src) && ep(m.dst);
}

/** Decodes a batch and checks each record's envelope and message header. */
export function decodeRecords(bytes: Uint8Array): MpRecord[] | string {
  let v: unknown;
  try {
    v = decoder.decode(bytes);
  } catch (err) {
    return `undecodable record batch: ${(err as Error).message}`;
  }
  if (!Array.isArray(v)) return 'record batch is not an array';
  const out: MpRecord[] = [];
  for (const x of v) {
    const r = checkRecord(x);
    if (typeof r === 'string') return r;
    out.push(r);
  }
  return out;
}

function checkRecord(v: unknown): MpRecord | string {
  if (v === null || typeof v !== 'object') return 'record is not a map';
  const r = v as Record<string, unknown>;
  if (typeof r.mp !== 'string' || r.mp.length === 0 || r.mp.length > 200) return 'record without an MP name';
  if (typeof r.seq !== 'number' || !Number.isSafeInteger(r.seq) || r.seq < 1) return 'record without a sequence number';
  switch (r.t) {
    case 'msg':
      if (typeof r.wire !== 'bigint' || !isMessage(r.msg)) return 'message record without wire time or a protocol message';
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
