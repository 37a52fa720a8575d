import { XdrWriter } from './xdr.js';

/**
 * libvirt RPC messages (virnetprotocol.x / remote_protocol.x): a length word that
 * counts itself, the six-word XDR header, then the XDR body.
 */
export const REMOTE_PROGRAM = 0x20008086;
export const REMOTE_PROTOCOL_VERSION = 1;
export const KEEPALIVE_PROGRAM = 0x6b656570;
export const KEEPALIVE_PROTOCOL_VERSION = 1;

/** Procedure numbers from remote_protocol.x (checked against libvirt's source). */
export const RemoteProc = {
  ConnectOpen: 1,
  ConnectClose: 2,
  ConnectSupportsFeature: 60,
  AuthList: 66,
  DomainMigratePrepare3Params: 303,
  DomainMigrateFinish3Params: 306,
  ConnectRegisterCloseCallback: 360,
  ConnectUnregisterCloseCallback: 361,
} as const;

export const KeepaliveProc = { Ping: 1, Pong: 2 } as const;

export const MessageType = { Call: 0, Reply: 1, Message: 2 } as const;
export const MessageStatus = { Ok: 0, Error: 1 } as const;

/** libvirt's virDrvFeature numbers probed by CONNECT_SUPPORTS_FEATURE in a p2p migration. */
export const DrvFeature = {
  MigrationP2P: 4,
  MigrationV3: 6,
  XmlMigratable: 9,
  MigrationOffline: 10,
  MigrationParams: 11,
  RemoteCloseCallback: 12,
  RemoteEventCallback: 13,
} as const;

/** virMigrateFlags of `virsh migrate --live --p2p --persistent --undefinesource`. */
export const MIGRATE_FLAGS = 1 /* LIVE */ | 2 /* PEER2PEER */ | 8 /* PERSIST_DEST */ | 16; /* UNDEFINE_SOURCE */

export interface RpcHeader {
  prog: number;
  vers: number;
  proc: number;
  type: number;
  serial: number;
  status: number;
}

export function rpcMessage(h: RpcHeader, body: Uint8Array = new Uint8Array(0)): Uint8Array {
  const w = new XdrWriter();
  w.uint(28 + body.length).uint(h.prog).uint(h.vers).int(h.proc).int(h.type).uint(h.serial).int(h.status);
  const head = w.bytes();
  const out = new Uint8Array(head.length + body.length);
  out.set(head, 0);
  out.set(body, head.length);
  return out;
}

export function remoteCall(proc: number, serial: number, body?: Uint8Array): Uint8Array {
  return rpcMessage(
    { prog: REMOTE_PROGRAM, vers: REMOTE_PROTOCOL_VERSION, proc, type: MessageType.Call, serial, status: MessageStatus.Ok },
    body,
  );
}

export function remoteReply(proc: number, serial: number, body?: Uint8Array, status: number = MessageStatus.Ok): Uint8Array {
  return rpcMessage(
    { prog: REMOTE_PROGRAM, vers: REMOTE_PROTOCOL_VERSION, proc, type: MessageType.Reply, serial, status },
    body,
  );
}

export function keepalive(proc: number): Uint8Array {
  return rpcMessage({
    prog: KEEPALIVE_PROGRAM, vers: KEEPALIVE_PROTOCOL_VERSION, proc, type: MessageType.Message, serial: 0, status: 0,
  });
}

/** remote_typed_param value types (VIR_TYPED_PARAM_*). */
export type TypedParam =
  | { field: string; type: 'string'; value: string }
  | { field: string; type: 'ullong'; value: bigint }
  | { field: string; type: 'int'; value: number };

export function writeTypedParams(w: XdrWriter, params: readonly TypedParam[]): void {
  w.uint(params.length);
  for (const p of params) {
    w.string(p.field);
    if (p.type === 'string') w.int(7).string(p.value);
    else if (p.type === 'ullong') w.int(4).uhyper(p.value);
    else w.int(1).int(p.value);
  }
}

/** A migration cookie travels as opaque XML text including its terminating NUL. */
export function cookieBytes(xml: string): Uint8Array {
  const t = new TextEncoder().encode(xml);
  const out = new Uint8Array(t.length + 1);
  out.set(t);
  return out;
}

export function authListReply(): Uint8Array {
  return new XdrWriter().uint(1).int(0 /* REMOTE_AUTH_NONE */).bytes();
}

export function supportsFeatureArgs(feature: number): Uint8Array {
  return new XdrWriter().int(feature).bytes();
}

export function supportsFeatureReply(supported: boolean): Uint8Array {
  return new XdrWriter().int(supported ? 1 : 0).bytes();
}

export function connectOpenArgs(uri: string): Uint8Array {
  return new XdrWriter().optionalString(uri).uint(0).bytes();
}

export function prepare3ParamsArgs(params: readonly TypedParam[], cookieIn: Uint8Array, flags: number): Uint8Array {
  const w = new XdrWriter();
  writeTypedParams(w, params);
  return w.opaque(cookieIn).uint(flags).bytes();
}

export function prepare3ParamsReply(cookieOut: Uint8Array, uriOut: string | null): Uint8Array {
  return new XdrWriter().opaque(cookieOut).optionalString(uriOut).bytes();
}

export function finish3ParamsArgs(params: readonly TypedParam[], cookieIn: Uint8Array, flags: number, cancelled: boolean): Uint8Array {
  const w = new XdrWriter();
  writeTypedParams(w, params);
  return w.opaque(cookieIn).uint(flags).int(cancelled ? 1 : 0).bytes();
}

export function finish3ParamsReply(domain: { name: string; uuid: Uint8Array; id: number }, cookieOut: Uint8Array): Uint8Array {
  return new XdrWriter().string(domain.name).fixedOpaque(domain.uuid).int(domain.id).opaque(cookieOut).bytes();
}

/** remote_error: the body of a REPLY with status ERROR (a virError). */
export function remoteError(code: number, domain: number, message: string): Uint8Array {
  return new XdrWriter()
    .int(code)
    .int(domain)
    .optionalString(message)
    .int(2 /* VIR_ERR_ERROR */)
    .uint(0) // dom: NULL
    .optionalString(message)
    .optionalString(null)
    .optionalString(null)
    .int(-1)
    .int(-1)
    .uint(0) // net: NULL
    .bytes();
}

export function uuidBytes(uuid: string): Uint8Array {
  const h = uuid.replace(/-/g, '');
  const out = new Uint8Array(16);
  for (let i = 0; i < 16; i++) out[i] = parseInt(h.slice(2 * i, 2 * i + 2), 16);
  return out;
}
