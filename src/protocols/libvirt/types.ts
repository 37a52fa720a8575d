/**
 * libvirt RPC (src/rpc/virnetprotocol.x): every message is `u32 length` (counting
 * itself) + a 24-byte XDR header (prog, vers, proc, type, serial, status) + XDR body.
 * The message types this decoder raises are declared here (../types.ts assembles the union).
 */
import type { MessageBase } from '../../core/message.js';
import type { Picos } from '../../core/time.js';

export type LibvirtMessageType =
  | 'call' | 'reply' | 'message' | 'stream' | 'call-with-fds' | 'reply-with-fds' | 'stream-hole';
export type LibvirtStatus = 'ok' | 'error' | 'continue';

/** What the migration procedures tell us, decoded from their XDR bodies. */
export interface LibvirtMigrationInfo {
  domainName?: string;
  domainUuid?: string;
  /** prepare3 reply: where the QEMU stream will connect, e.g. "tcp:10.0.0.2:49152". */
  migrateUri?: string;
  /** From the <qemu-migration> cookie. */
  hostname?: string;
  hostUuid?: string;
  /** DOMAIN_GET_JOB_STATS reply: the auto-converge CPU throttle (percent), when reported. */
  autoConvergeThrottle?: number;
}

export interface LibvirtRpcMessage extends MessageBase {
  protocol: 'libvirt';
  kind: LibvirtMessageType;
  program: number;
  /** "remote", "keepalive", "qemu", "lxc", "admin", or hex when unknown. */
  programName: string;
  version: number;
  procedure: number;
  /** e.g. "DOMAIN_MIGRATE_PREPARE3_PARAMS", "PING"; "PROC_<n>" when unknown. */
  procedureName: string;
  serial: number;
  status: LibvirtStatus;
  /** Total message length (the leading length word). */
  length: number;
  /** For replies: timestamp of the call with the same serial, if seen. */
  callTs?: Picos;
  migration?: LibvirtMigrationInfo;
  /**
   * Bytes of the message missing from the capture (its body was then not decoded):
   * `cut` by the snaplen, or `lost`. Absent when the message was captured whole.
   */
  missingBytes?: number;
  missingKind?: 'cut' | 'lost';
  /** For status=error replies: virErrorPtr code and message. */
  error?: { code: number; message: string };
}

/**
 * A record of a libvirt connection over TLS (16514), after the TLS handshake: its RPC
 * cannot be read, only when each record went which way and how long it was. The phase
 * engine reads the RPC round trips from them (docs/phase-markers.md).
 */
export interface LibvirtTlsRecord extends MessageBase {
  protocol: 'libvirt';
  kind: 'tls-record';
  /** Sent by the connection's client (calls) or by its server (replies, the check byte). */
  fromClient: boolean;
  /** Ciphertext length of the record. */
  recordLength: number;
  /** Its plaintext bytes (the record minus the suite's expansion), when the suite is known. */
  plaintext?: number;
}

export type LibvirtMessage = LibvirtRpcMessage | LibvirtTlsRecord;

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
