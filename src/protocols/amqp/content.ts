import type { Problem } from '../../core/anomaly.js';
import { AmqpAnomaly } from './anomaly-codes.js';
import { PayloadReader, readFieldTable } from './fields.js';

export interface ContentHeader {
  classId: number;
  bodySize: number;
  contentType?: string;
  contentEncoding?: string;
  replyTo?: string;
  correlationId?: string;
  messageId?: string;
}

export type ContentHeaderResult = { ok: true; header: ContentHeader } | { ok: false; problem: Problem };

/** basic's property list, most significant flag bit first: shortstr, table, octet or timestamp. */
const BASIC_PROPERTIES: readonly [string, 'S' | 'T' | 'o' | 'L'][] = [
  ['contentType', 'S'], ['contentEncoding', 'S'], ['headers', 'T'], ['deliveryMode', 'o'],
  ['priority', 'o'], ['correlationId', 'S'], ['replyTo', 'S'], ['expiration', 'S'],
  ['messageId', 'S'], ['timestamp', 'L'], ['type', 'S'], ['userId', 'S'], ['appId', 'S'],
  ['clusterId', 'S'],
];

/**
 * Content header frame payload: class, weight, 64-bit body size, property flags (bit 0
 * of each flag word says another word follows), then the present properties in order.
 */
export function decodeContentHeader(bytes: Uint8Array, start: number, end: number): ContentHeaderResult {
  const r = new PayloadReader(bytes, start, end);
  const classId = r.u16();
  r.u16(); // weight, always 0
  const bodySize = r.u64();
  const flags = r.u16();
  const header: ContentHeader = { classId, bodySize };
  if (!r.ok) return { ok: false, problem: { def: AmqpAnomaly.HEADER_TOO_SHORT, fields: { length: end - start } } };
  if (classId !== 60) return { ok: true, header }; // only basic's properties are known
  // Continuation flag words: no basic property lives there, but they must be consumed.
  for (let more = flags & 1, words = 0; more === 1 && words < 8 && r.ok; words++) more = r.u16() & 1;
  for (let i = 0; i < BASIC_PROPERTIES.length; i++) {
    if (((flags >> (15 - i)) & 1) === 0) continue;
    const [name, type] = BASIC_PROPERTIES[i]!;
    switch (type) {
      case 'S': {
        const value = r.shortStr();
        if (name === 'contentType') header.contentType = value;
        else if (name === 'contentEncoding') header.contentEncoding = value;
        else if (name === 'replyTo') header.replyTo = value;
        else if (name === 'correlationId') header.correlationId = value;
        else if (name === 'messageId') header.messageId = value;
        break;
      }
      case 'T': readFieldTable(r); break; // validated, not kept
      case 'o': r.u8(); break;
      default: r.u64();
    }
    if (!r.ok) return { ok: false, problem: { def: AmqpAnomaly.BAD_HEADER_PROPERTY, fields: { property: i } } };
  }
  return { ok: true, header };
}
