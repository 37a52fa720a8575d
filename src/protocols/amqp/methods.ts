import type { Problem } from '../../core/anomaly.js';
import { AmqpAnomaly } from './anomaly-codes.js';
import { PayloadReader, readFieldTable, type FieldTable } from './fields.js';

/**
 * Argument layouts of every AMQP 0-9-1 method (plus RabbitMQ's extensions), one letter
 * per argument: o octet, s short, l long, L longlong, S shortstr, X longstr, b bit
 * (consecutive bits share one octet), T field table. Table-driven so every method is
 * validated the same way, not only the few whose fields we use.
 */
const LAYOUTS: Record<number, readonly [string, string]> = {
  // connection (10)
  0x000a000a: ['connection.start', 'ooTXX'], 0x000a000b: ['connection.start-ok', 'TSXS'],
  0x000a0014: ['connection.secure', 'X'], 0x000a0015: ['connection.secure-ok', 'X'],
  0x000a001e: ['connection.tune', 'sls'], 0x000a001f: ['connection.tune-ok', 'sls'],
  0x000a0028: ['connection.open', 'SSb'], 0x000a0029: ['connection.open-ok', 'S'],
  0x000a0032: ['connection.close', 'sSss'], 0x000a0033: ['connection.close-ok', ''],
  0x000a003c: ['connection.blocked', 'S'], 0x000a003d: ['connection.unblocked', ''],
  0x000a0046: ['connection.update-secret', 'XS'], 0x000a0047: ['connection.update-secret-ok', ''],
  // channel (20)
  0x0014000a: ['channel.open', 'S'], 0x0014000b: ['channel.open-ok', 'X'],
  0x00140014: ['channel.flow', 'b'], 0x00140015: ['channel.flow-ok', 'b'],
  0x00140028: ['channel.close', 'sSss'], 0x00140029: ['channel.close-ok', ''],
  // exchange (40)
  0x0028000a: ['exchange.declare', 'sSSbbbbbT'], 0x0028000b: ['exchange.declare-ok', ''],
  0x00280014: ['exchange.delete', 'sSbb'], 0x00280015: ['exchange.delete-ok', ''],
  0x0028001e: ['exchange.bind', 'sSSSbT'], 0x0028001f: ['exchange.bind-ok', ''],
  0x00280028: ['exchange.unbind', 'sSSSbT'], 0x00280033: ['exchange.unbind-ok', ''],
  // queue (50)
  0x0032000a: ['queue.declare', 'sSbbbbbT'], 0x0032000b: ['queue.declare-ok', 'Sll'],
  0x00320014: ['queue.bind', 'sSSSbT'], 0x00320015: ['queue.bind-ok', ''],
  0x0032001e: ['queue.purge', 'sSb'], 0x0032001f: ['queue.purge-ok', 'l'],
  0x00320028: ['queue.delete', 'sSbbb'], 0x00320029: ['queue.delete-ok', 'l'],
  0x00320032: ['queue.unbind', 'sSSST'], 0x00320033: ['queue.unbind-ok', ''],
  // basic (60)
  0x003c000a: ['basic.qos', 'lsb'], 0x003c000b: ['basic.qos-ok', ''],
  0x003c0014: ['basic.consume', 'sSSbbbbT'], 0x003c0015: ['basic.consume-ok', 'S'],
  0x003c001e: ['basic.cancel', 'Sb'], 0x003c001f: ['basic.cancel-ok', 'S'],
  0x003c0028: ['basic.publish', 'sSSbb'], 0x003c0032: ['basic.return', 'sSSS'],
  0x003c003c: ['basic.deliver', 'SLbSS'], 0x003c0046: ['basic.get', 'sSb'],
  0x003c0047: ['basic.get-ok', 'LbSSl'], 0x003c0048: ['basic.get-empty', 'S'],
  0x003c0050: ['basic.ack', 'Lb'], 0x003c005a: ['basic.reject', 'Lb'],
  0x003c0064: ['basic.recover-async', 'b'], 0x003c006e: ['basic.recover', 'b'],
  0x003c006f: ['basic.recover-ok', ''], 0x003c0078: ['basic.nack', 'Lbb'],
  // confirm (85), tx (90)
  0x0055000a: ['confirm.select', 'b'], 0x0055000b: ['confirm.select-ok', ''],
  0x005a000a: ['tx.select', ''], 0x005a000b: ['tx.select-ok', ''],
  0x005a0014: ['tx.commit', ''], 0x005a0015: ['tx.commit-ok', ''],
  0x005a001e: ['tx.rollback', ''], 0x005a001f: ['tx.rollback-ok', ''],
};

export type MethodArg = number | string | boolean | FieldTable;

export interface AmqpMethod {
  classId: number;
  methodId: number;
  /** e.g. "basic.publish". */
  name: string;
  /** Arguments in layout order (longstr arguments as their byte length). */
  args: MethodArg[];
}

export type MethodResult = { ok: true; method: AmqpMethod } | { ok: false; problem: Problem };

export function methodName(classId: number, methodId: number): string {
  return LAYOUTS[classId * 65536 + methodId]?.[0] ?? `${classId}.${methodId}`;
}

/** Decodes a method frame payload: class id, method id, then the layout's arguments. */
export function decodeMethod(bytes: Uint8Array, start: number, end: number): MethodResult {
  const r = new PayloadReader(bytes, start, end);
  const classId = r.u16();
  const methodId = r.u16();
  if (!r.ok) return { ok: false, problem: { def: AmqpAnomaly.METHOD_TOO_SHORT, fields: { length: end - start } } };
  const layout = LAYOUTS[classId * 65536 + methodId];
  if (layout === undefined) return { ok: false, problem: { def: AmqpAnomaly.UNKNOWN_METHOD, fields: { classId, methodId } } };
  const [name, letters] = layout;
  const args: MethodArg[] = [];
  let bitOctet = 0;
  let bitIndex = 8; // > 7: the next bit starts a new octet
  for (const letter of letters) {
    if (letter !== 'b') bitIndex = 8;
    switch (letter) {
      case 'o': args.push(r.u8()); break;
      case 's': args.push(r.u16()); break;
      case 'l': args.push(r.u32()); break;
      case 'L': args.push(r.u64()); break;
      case 'S': args.push(r.shortStr()); break;
      case 'X': { const [s, e] = r.longStrRange(); args.push(e - s); break; }
      case 'T': {
        const table = readFieldTable(r);
        if (!r.ok) return { ok: false, problem: { def: AmqpAnomaly.BAD_FIELD_TABLE, fields: { classId, methodId } } };
        args.push(table);
        break;
      }
      default: // 'b'
        if (bitIndex > 7) { bitOctet = r.u8(); bitIndex = 0; }
        args.push(((bitOctet >> bitIndex) & 1) === 1);
        bitIndex++;
    }
  }
  if (!r.ok) return { ok: false, problem: { def: AmqpAnomaly.METHOD_ARGS_OVERRUN, fields: { classId, methodId } } };
  return { ok: true, method: { classId, methodId, name, args } };
}

// Ids of the methods the decoder acts on.
export const BASIC_PUBLISH = 0x003c0028;
export const BASIC_RETURN = 0x003c0032;
export const BASIC_DELIVER = 0x003c003c;
export const BASIC_GET_OK = 0x003c0047;
export const CHANNEL_CLOSE = 0x00140028;
export const CHANNEL_CLOSE_OK = 0x00140029;
export const CONNECTION_CLOSE = 0x000a0032;
