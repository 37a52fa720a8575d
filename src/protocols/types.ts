import type { Anomaly } from '../core/anomaly.js';
import type { PacketClock, Picos } from '../core/time.js';
import type { ArpAnnouncement } from '../decode/arp.js';
import type { IcmpEcho } from '../decode/icmp.js';
import type { Direction, FlowInfo, TcpSegmentMarker } from '../decode/types.js';
import type { AmqpMessage } from './amqp/types.js';
import type { HttpMessage } from './http/types.js';
import type { LibvirtMessage } from './libvirt/types.js';
import type { QemuMessage } from './qemu/types.js';

/**
 * Protocol messages: what the decoders raise and the only thing the phase engine
 * consumes. Small structs, never raw payload. Each protocol folder declares its own
 * message types (src/protocols/<name>/types.ts), the packet-level decoders theirs
 * (src/decode/); this module assembles the union and the analyzer interface, and
 * re-exports the member types so that consumers import them from one place.
 */
export type { Anomaly, AnomalyDef, AnomalyFields, AnomalyKind, Problem } from '../core/anomaly.js';
export type { Endpoint, MessageBase } from '../core/message.js';
export type { ArpAnnouncement } from '../decode/arp.js';
export type { IcmpEcho } from '../decode/icmp.js';
export type { TcpSegmentMarker } from '../decode/types.js';
export type { AmqpMessage, OsloEnvelope } from './amqp/types.js';
export type { HttpMessage, HttpRequest, HttpResponse } from './http/types.js';
export type {
  LibvirtMessage, LibvirtMessageType, LibvirtMigrationInfo, LibvirtRpcMessage, LibvirtStatus, LibvirtTlsRecord,
} from './libvirt/types.js';
export type {
  MultifdMessage, MultifdPacket, QemuDeviceSection, QemuMessage, QemuPassStarted, QemuRamChunk, QemuStreamCut, QemuStreamEnd, QemuStreamHeader, QemuSwitchover,
} from './qemu/types.js';

export type ProtocolMessage =
  | TcpSegmentMarker | LibvirtMessage | QemuMessage | HttpMessage | AmqpMessage
  | IcmpEcho | ArpAnnouncement | Anomaly;

export type ProtocolName = 'libvirt' | 'qemu' | 'http' | 'amqp';
export type Emit = (msg: ProtocolMessage) => void;
/** Why stream bytes are missing: never captured, or cut off a captured packet by the snaplen. */
export type GapKind = 'lost' | 'cut';

/**
 * The one small interface every stream protocol implements. A decoder instance owns
 * one TCP connection (both directions) and is fed in-order bytes by the reassembler;
 * it raises messages through the `emit` it was created with.
 * It must never throw: malformed input becomes an Anomaly (./anomaly.ts) and the
 * decoder resyncs or stops decoding that direction. It must not retain `bytes` after
 * returning.
 */
export interface StreamDecoder {
  data(dir: Direction, bytes: Uint8Array, ts: Picos): void;
  /**
   * The same bytes as buf[start, end), their time a clock whose bigint `at.ts` is made
   * only if asked for (bulk streams: most segments make no message). Optional: the
   * Dissector calls `data` with a view when it is missing. Neither `buf` nor `at` may be
   * kept after returning (keep `at.ts` or copy the clock).
   */
  dataAt?(dir: Direction, buf: Uint8Array, start: number, end: number, at: PacketClock): void;
  /**
   * `length` bytes in direction `dir` are missing from the capture: `lost` (never
   * seen) or `cut` (sent, but the capture's snaplen kept only the packet's first bytes).
   */
  gap(dir: Direction, length: number, ts: Picos, kind: GapKind): void;
  /** FIN/RST or flow timeout in direction `dir`. */
  end(dir: Direction, ts: Picos): void;
  /**
   * Bytes of buffers the decoder holds now beyond its fixed size (bodies being collected,
   * growable accumulators), for the Dissector's memory budget. Omitted: constant.
   */
  heldBytes?(): number;
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
  /** A decoder for one connection; everything it decodes goes to `emit`. */
  create(flow: FlowInfo, emit: Emit): StreamDecoder;
}
