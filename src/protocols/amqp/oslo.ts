import { utf8 } from '../byte-accumulator.js';
import type { OsloEnvelope } from '../types.js';

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => v !== null && typeof v === 'object' && !Array.isArray(v);
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** An instance argument: a uuid string, a NovaObject primitive, or a plain dict. */
function instanceUuid(args: Json): string | undefined {
  const inst = args['instance'];
  if (typeof inst === 'string') return inst;
  if (isObject(inst)) {
    const data = inst['nova_object.data'];
    if (isObject(data) && typeof data['uuid'] === 'string') return data['uuid'];
    if (typeof inst['uuid'] === 'string') return inst['uuid'];
  }
  return str(args['instance_uuid']);
}

const FAILURE_CHARS = 256;

/**
 * The first `limit` characters of JSON.stringify(value), without recursion: a failure
 * from the wire may nest 500 000 levels deep, which overflows JSON.stringify's stack
 * (V8's JSON.parse is iterative and reads it fine). Stops once `limit` characters are
 * out, so the work is bounded whatever the size. `value` comes from JSON.parse: plain
 * objects, arrays and primitives only.
 */
export function jsonPreview(value: unknown, limit: number): string {
  let out = '';
  const open: { keys: string[] | undefined; of: unknown; next: number }[] = [];
  let cur: unknown = value;
  let pending = true;
  while (out.length < limit) {
    if (pending) {
      pending = false;
      if (Array.isArray(cur)) { out += '['; open.push({ keys: undefined, of: cur, next: 0 }); }
      else if (cur !== null && typeof cur === 'object') { out += '{'; open.push({ keys: Object.keys(cur), of: cur, next: 0 }); }
      else out += JSON.stringify(cur) ?? 'null';
      continue;
    }
    const top = open[open.length - 1];
    if (top === undefined) break;
    const size = top.keys ? top.keys.length : (top.of as unknown[]).length;
    if (top.next >= size) {
      out += top.keys ? '}' : ']';
      open.pop();
      continue;
    }
    if (top.next > 0) out += ',';
    if (top.keys) {
      const k = top.keys[top.next]!;
      out += `${JSON.stringify(k)}:`;
      cur = (top.of as Json)[k];
    } else cur = (top.of as unknown[])[top.next];
    top.next++;
    pending = true;
  }
  return out.slice(0, limit);
}

/** oslo serialises a remote exception as a JSON string {class, module, message, tb}. */
function failureText(failure: unknown): string | undefined {
  if (failure === null || failure === undefined) return undefined;
  const raw = typeof failure === 'string' ? failure : jsonPreview(failure, FAILURE_CHARS);
  const parsed = typeof failure === 'string' ? parseJson(failure) : failure;
  if (isObject(parsed) && typeof parsed['class'] === 'string') {
    const message = typeof parsed['message'] === 'string' ? `: ${parsed['message']}` : '';
    return `${parsed['class']}${message}`.slice(0, FAILURE_CHARS);
  }
  return raw.slice(0, FAILURE_CHARS);
}

const RPC_KEYS = ['method', '_msg_id', 'result', 'failure', 'ending'];

/**
 * The oslo.messaging RPC message inside an AMQP body: the 2.0 envelope
 * {"oslo.version": "2.0", "oslo.message": "<JSON text>"} or a bare 1.0 message.
 * Undefined when the body is not an oslo RPC message.
 */
export function decodeOsloBody(body: Uint8Array): OsloEnvelope | undefined {
  let i = 0;
  while (i < body.length && (body[i] === 0x20 || body[i] === 0x0a || body[i] === 0x0d || body[i] === 0x09)) i++;
  if (body[i] !== 0x7b) return undefined; // not a JSON object: skip the parse
  const outer = parseJson(utf8(body));
  if (!isObject(outer)) return undefined;
  let msg: unknown = outer;
  if ('oslo.version' in outer && typeof outer['oslo.message'] === 'string') msg = parseJson(outer['oslo.message']);
  if (!isObject(msg) || !RPC_KEYS.some((k) => k in msg)) return undefined;
  return envelopeOf(msg);
}

function envelopeOf(msg: Json): OsloEnvelope {
  const method = str(msg['method']);
  const msgId = str(msg['_msg_id']);
  const isReply = method === undefined && ('result' in msg || 'failure' in msg || 'ending' in msg);
  const env: OsloEnvelope = { isCall: method !== undefined && msgId !== undefined, isReply };
  if (method !== undefined) env.method = method;
  if (msgId !== undefined) env.msgId = msgId;
  const replyQueue = str(msg['_reply_q']);
  if (replyQueue !== undefined) env.replyQueue = replyQueue;
  if (isReply) {
    env.ending = msg['ending'] === true;
    env.hasResult = 'result' in msg && msg['result'] !== null;
    const failure = failureText(msg['failure']);
    if (failure !== undefined) env.failure = failure;
  }
  const args = msg['args'];
  if (isObject(args)) {
    const uuid = instanceUuid(args);
    if (uuid !== undefined) env.instanceUuid = uuid;
    const host = str(args['host']) ?? str(args['dest']) ?? str(args['destination']);
    if (host !== undefined) env.host = host;
  }
  return env;
}
