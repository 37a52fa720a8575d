import type { Picos } from '../core/time.js';
import type { Direction, Endpoint, FlowInfo } from '../decode/types.js';

/**
 * Protocol messages: what the decoders raise and the only thing the phase engine
 * consumes. Small structs, never raw payload. Each protocol folder declares its own
 * message types (src/protocols/<name>/types.ts); this module unions them.
 */
export interface MessageBase {
  /** Wire timestamp of the packet that carried the message's first byte. */
  ts: Picos;
  /** Wire timestamp of the packet that completed the message (= ts when one packet). */
  tsEnd: Picos;
  /** Connection the message travelled on (-1 for connectionless protocols). */
  flowId: number;
  /** Sender and receiver of this message. */
  src: Endpoint;
  dst: Endpoint;
}

// ---------------------------------------------------------------- transport markers
/** Raised by the flow tracker (not by a protocol decoder): connection life cycle. */
export interface TcpSegmentMarker extends MessageBase {
  protocol: 'tcp';
  /** syn: the first SYN of a connection; fin/rst: the first FIN/RST in that direction. */
  kind: 'syn' | 'syn-ack' | 'fin' | 'rst';
  dir: Direction;
}

// ---------------------------------------------------------------- libvirt RPC
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
  /** For status=error replies: virErrorPtr code and message. */
  error?: { code: number; message: string };
}

// ---------------------------------------------------------------- QEMU migration stream
interface QemuBase extends MessageBase {
  protocol: 'qemu';
  /** Stream bytes (source → destination payload) up to and including this record. */
  streamBytes: number;
}
export interface QemuStreamHeader extends QemuBase { kind: 'header'; version: number }
/** A RAM pass (pre-copy iteration) began: page offsets wrapped back to the first block. */
export interface QemuPassStarted extends QemuBase { kind: 'pass-started'; iteration: number }
/** End of a RAM chunk (EOS flag): live progress. */
export interface QemuRamChunk extends QemuBase {
  kind: 'ram-chunk';
  iteration: number;
  /** Pages (normal + zero) in this chunk. */
  pages: number;
  /** Stream bytes of RAM pages in the current pass so far. */
  passBytes: number;
}
/** The stream left pre-copy (SECTION_END of "ram"): the VM is paused at the source. */
export interface QemuSwitchover extends QemuBase {
  kind: 'switchover';
  iterations: number;
  precopyBytes: number;
}
/** A device-state section (SECTION_FULL) in stop-and-copy. */
export interface QemuDeviceSection extends QemuBase { kind: 'device-section'; idstr: string }
/** QEMU_VM_EOF: the migration stream is complete. */
export interface QemuStreamEnd extends QemuBase {
  kind: 'eof';
  iterations: number;
  precopyBytes: number;
  stopCopyBytes: number;
  /** Bytes per RAM pass, index 0 = pass 1. */
  passBytes: number[];
  /** Stream bytes of the SECTION_END(ram) record: the RAM part of stop-and-copy (≈ QEMU downtime-bytes). */
  ramStopCopyBytes?: number;
  /** Page records in the whole stream: full pages (QEMU ram.normal) and zero pages (ram.duplicate). */
  normalPages?: number;
  zeroPages?: number;
}
export type QemuMessage =
  | QemuStreamHeader | QemuPassStarted | QemuRamChunk | QemuSwitchover | QemuDeviceSection | QemuStreamEnd;

// ---------------------------------------------------------------- HTTP/1.1
export interface HttpRequest extends MessageBase {
  protocol: 'http';
  kind: 'request';
  method: string;
  /** Path without the query string. */
  path: string;
  host?: string;
  contentLength: number;
  /** Top-level keys of a JSON body (e.g. ["os-migrateLive"]), when the body is JSON. */
  jsonKeys?: string[];
  /** For os-migrateLive: the target host named in the body. */
  migrateLiveHost?: string;
}
export interface HttpResponse extends MessageBase {
  protocol: 'http';
  kind: 'response';
  status: number;
  /** Method and path of the request this answers (HTTP/1.1 responses come in order). */
  requestMethod?: string;
  requestPath?: string;
  requestTs?: Picos;
  contentLength: number;
  /** Keystone v3 issues the token in this header. */
  subjectToken?: boolean;
}
export type HttpMessage = HttpRequest | HttpResponse;

// ---------------------------------------------------------------- AMQP 0-9-1 / oslo.messaging
export interface OsloEnvelope {
  /** RPC method for calls/casts; absent in replies. */
  method?: string;
  /** Calls carry a message id and a reply queue; casts have neither. */
  msgId?: string;
  replyQueue?: string;
  isCall: boolean;
  /** Replies: the `ending` flag, and whether a result / failure is present. */
  isReply: boolean;
  ending?: boolean;
  hasResult?: boolean;
  failure?: string;
  /** Useful arguments when present: instance uuid, destination/source host. */
  instanceUuid?: string;
  host?: string;
}
export interface AmqpMessage extends MessageBase {
  protocol: 'amqp';
  kind: 'publish' | 'deliver';
  channel: number;
  exchange: string;
  routingKey: string;
  bodySize: number;
  oslo?: OsloEnvelope;
}

// ---------------------------------------------------------------- ICMP, ARP
export interface IcmpEcho extends MessageBase {
  protocol: 'icmp';
  kind: 'echo-request' | 'echo-reply';
  id: number;
  seq: number;
}
/** RARP request or gratuitous ARP: a resumed VM announcing its MAC. */
export interface ArpAnnouncement extends MessageBase {
  protocol: 'arp';
  kind: 'rarp' | 'gratuitous-arp';
  mac: string;
}

// ---------------------------------------------------------------- anomalies
export type AnomalyKind =
  | 'capture-drop'        // kernel / libpcap drops (pcap_stats)
  | 'ring-drop'           // our ring was full
  | 'frame-loss'          // DPMI sequence gap
  | 'malformed-record'    // file record that could not be read
  | 'truncated-file'
  | 'malformed-packet'    // bad L2–L4 header
  | 'ip-fragment'         // fragments are counted, not reassembled
  | 'tcp-hole'            // bytes never seen in a TCP stream
  | 'tcp-overlap'         // retransmitted bytes that disagree with what we had
  | 'flow-memory'         // reassembly buffer bound hit
  | 'protocol-error'      // a decoder could not parse its protocol
  | 'unknown-protocol';
export interface Anomaly extends MessageBase {
  protocol: 'anomaly';
  kind: AnomalyKind;
  count: number;
  reason: string;
}

export type ProtocolMessage =
  | TcpSegmentMarker | LibvirtRpcMessage | QemuMessage | HttpMessage | AmqpMessage
  | IcmpEcho | ArpAnnouncement | Anomaly;

export type ProtocolName = 'libvirt' | 'qemu' | 'http' | 'amqp';
export type Emit = (msg: ProtocolMessage) => void;

/**
 * The one small interface every stream protocol implements. A decoder instance owns
 * one TCP connection (both directions) and is fed in-order bytes by the reassembler.
 * It must never throw: malformed input becomes an Anomaly and the decoder resyncs or
 * stops decoding that direction. It must not retain `bytes` after returning.
 */
export interface StreamDecoder {
  data(dir: Direction, bytes: Uint8Array, ts: Picos, emit: Emit): void;
  /** `length` bytes in direction `dir` were never captured. */
  gap(dir: Direction, length: number, ts: Picos, emit: Emit): void;
  /** FIN/RST or flow timeout in direction `dir`. */
  end(dir: Direction, ts: Picos, emit: Emit): void;
}

export interface ProtocolAnalyzer {
  readonly name: ProtocolName;
  /** Well-known server ports (a hint, not a requirement). */
  readonly ports: readonly number[];
  /**
   * Given the first bytes the client sent (and the flow), is this our protocol?
   * Lets us find libvirt on a non-default port or the QEMU stream on any port.
   */
  probe(firstClientBytes: Uint8Array, flow: FlowInfo): boolean;
  create(flow: FlowInfo): StreamDecoder;
}
