import type { Endpoint, MessageBase } from './message.js';
import type { Picos } from './time.js';

/**
 * Anomalies: anything dropped, cut or unparsable, at any stage of the data flow
 * (capture, file records, packets, TCP streams, protocol decoders). They travel in the
 * protocol-message stream so that every loss is counted and reported.
 */
export type AnomalyKind =
  | 'capture-drop'        // kernel / libpcap drops (pcap_stats)
  | 'ring-drop'           // our ring was full
  | 'frame-loss'          // DPMI sequence gap
  | 'malformed-record'    // file record that could not be read
  | 'truncated-file'      // a capture file that ends inside a record (or a cut .gz)
  | 'time-out-of-range'   // a packet time before 1970 or from year 10000 on (kept as read)
  | 'malformed-packet'    // bad L2–L4 header
  | 'ip-fragment'         // fragments are counted, not reassembled
  | 'tcp-hole'            // bytes never seen in a TCP stream
  | 'tcp-overlap'         // retransmitted bytes that disagree with what we had
  | 'flow-memory'         // reassembly buffer bound hit
  | 'memory-shed'         // state dropped to stay within --max-memory (the reason names what)
  | 'protocol-error'      // a decoder could not parse its protocol
  | 'unknown-protocol';

/**
 * The numbers that go with one occurrence (a length, a type byte, a stream offset):
 * kept as fields instead of being printed into a sentence. Never text from the wire.
 */
export type AnomalyFields = Readonly<Record<string, number>>;

/**
 * One entry of a stage's code table (as undici's HPE_* or Suricata's per-protocol
 * event enums). `code` is a stable contract (docs/anomalies.md): never renamed or
 * reused, only added. `text` is the constant human description.
 */
export interface AnomalyDef {
  readonly code: string;
  readonly kind: AnomalyKind;
  readonly text: string;
  /** Names of the numbers an occurrence carries (Anomaly.fields), part of the contract. */
  readonly fields: readonly string[];
}

/** Declares one code; tables are plain objects of these, one per folder (src/…/anomaly-codes.ts). */
export function anomalyDef(code: string, kind: AnomalyKind, text: string, fields: readonly string[] = []): AnomalyDef {
  return Object.freeze({ code, kind, text, fields: Object.freeze([...fields]) });
}

/** What a pure parser returns instead of a sentence: a code and the numbers of this occurrence. */
export interface Problem {
  readonly def: AnomalyDef;
  readonly fields?: AnomalyFields;
}

export interface Anomaly extends MessageBase {
  protocol: 'anomaly';
  kind: AnomalyKind;
  /** Stable code (AnomalyDef.code), e.g. 'LIBVIRT_BAD_LENGTH'. */
  code: string;
  count: number;
  /** The code's constant description (AnomalyDef.text). */
  reason: string;
  /** Numbers of the first occurrence, when the code has any. */
  fields?: AnomalyFields;
}

/** The one constructor of Anomaly messages: every stage passes its code and where it happened. */
export function anomalyMessage(
  def: AnomalyDef, count: number, ts: Picos, tsEnd: Picos, flowId: number, src: Endpoint, dst: Endpoint, fields?: AnomalyFields,
): Anomaly {
  const a: Anomaly = { protocol: 'anomaly', kind: def.kind, code: def.code, count, reason: def.text, ts, tsEnd, flowId, src, dst };
  if (fields !== undefined) a.fields = fields;
  return a;
}

/** One line for humans: "reason (name=value …)". */
export function describeAnomaly(a: { reason?: string; code?: string; fields?: AnomalyFields }): string {
  const text = a.reason ?? a.code ?? '';
  if (a.fields === undefined) return text;
  const parts = Object.entries(a.fields).map(([k, v]) => `${k}=${v}`);
  return parts.length > 0 ? `${text} (${parts.join(' ')})` : text;
}
