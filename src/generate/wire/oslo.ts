import type { Rng } from '../rng.js';

/** oslo.messaging (rabbit driver) message bodies: the 2.0 envelope around a JSON string. */
const enc = new TextEncoder();

export function osloEnvelope(inner: Record<string, unknown>): Uint8Array {
  return enc.encode(JSON.stringify({ 'oslo.version': '2.0', 'oslo.message': JSON.stringify(inner) }));
}

export interface OsloContext {
  requestId: string;
  userId: string;
  projectId: string;
  timestamp: string;
}

export function contextFields(ctx: OsloContext): Record<string, unknown> {
  return {
    _context_user: ctx.userId,
    _context_user_id: ctx.userId,
    _context_tenant: ctx.projectId,
    _context_project_id: ctx.projectId,
    _context_request_id: ctx.requestId,
    _context_global_request_id: null,
    _context_is_admin: true,
    _context_roles: ['admin', 'reader', 'member'],
    _context_read_deleted: 'no',
    _context_timestamp: ctx.timestamp,
    _context_user_name: 'admin',
    _context_project_name: 'admin',
  };
}

/** An RPC call (expects a reply on `replyQueue`) or a cast (no `_msg_id`/`_reply_q`). */
export function osloRequest(
  rng: Rng, ctx: OsloContext, methodName: string, args: Record<string, unknown>, call: { msgId: string; replyQueue: string } | null,
  version = '6.0',
): Uint8Array {
  const inner: Record<string, unknown> = { method: methodName, args, version, ...contextFields(ctx) };
  if (call) {
    inner['_msg_id'] = call.msgId;
    inner['_reply_q'] = call.replyQueue;
  }
  inner['_unique_id'] = rng.hex32();
  return osloEnvelope(inner);
}

export function osloReply(rng: Rng, msgId: string, result: unknown, failure: string | null = null): Uint8Array {
  return osloEnvelope({ result, failure, ending: true, _msg_id: msgId, _unique_id: rng.hex32() });
}
