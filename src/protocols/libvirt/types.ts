/**
 * libvirt RPC (src/rpc/virnetprotocol.x): every message is `u32 length` (counting
 * itself) + a 24-byte XDR header (prog, vers, proc, type, serial, status) + XDR body.
 * Message types are the contract types in ../types.ts.
 */
export type { LibvirtMessageType, LibvirtMigrationInfo, LibvirtRpcMessage, LibvirtStatus } from '../types.js';
import type { LibvirtMessageType, LibvirtStatus } from '../types.js';

export const REMOTE_PROGRAM = 0x20008086;
export const QEMU_PROGRAM = 0x20008087;
export const LXC_PROGRAM = 0x00068000;
export const KEEPALIVE_PROGRAM = 0x6b656570;
export const ADMIN_PROGRAM = 0x06900690;

/** Length word + header. */
export const LIBVIRT_HEADER_BYTES = 28;
/** VIR_NET_MESSAGE_MAX (32 MiB) plus the length word: anything longer is not libvirt. */
export const LIBVIRT_MAX_MESSAGE = 32 * 1024 * 1024 + 4;

export const MESSAGE_TYPES: readonly LibvirtMessageType[] = [
  'call', 'reply', 'message', 'stream', 'call-with-fds', 'reply-with-fds', 'stream-hole',
];
export const STATUSES: readonly LibvirtStatus[] = ['ok', 'error', 'continue'];

/** REMOTE_MIGRATE_COOKIE_MAX, REMOTE_STRING_MAX. */
export const COOKIE_MAX = 4 * 1024 * 1024;
export const STRING_MAX = 4 * 1024 * 1024;

/** Typed migration parameter names (VIR_MIGRATE_PARAM_*). */
export const PARAM_URI = 'migrate_uri';
export const PARAM_DEST_NAME = 'destination_name';
export const PARAM_DEST_XML = 'destination_xml';
