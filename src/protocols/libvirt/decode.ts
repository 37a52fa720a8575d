import type { Picos } from '../../core/time.js';
import type { Direction, Endpoint, FlowInfo } from '../../decode/types.js';
import type { AnomalyDef, AnomalyFields } from '../../core/anomaly.js';
import { streamAnomaly } from '../anomaly.js';
import type { Emit, GapKind, LibvirtMigrationInfo, StreamDecoder } from '../types.js';
import { LibvirtAnomaly } from './anomaly-codes.js';
import { decodeMigrationBody, decodeRemoteError, isMigrationProc, MigrationProc } from './migration.js';
import { isKnownProgram, procedureName, programName } from './programs.js';
import { LIBVIRT_HEADER_BYTES, LIBVIRT_MAX_MESSAGE, MESSAGE_TYPES, REMOTE_PROGRAM, STATUSES } from './types.js';

/** Bodies we keep to decode (migration calls/replies, errors) are bounded by this. */
const MAX_DECODED_BODY = 8 * 1024 * 1024;
/** Calls waiting for their reply, per connection. */
const MAX_PENDING_CALLS = 4096;
/** VIR_NET_STREAM: a message of a data stream (virnetprotocol.x). */
const STREAM_TYPE = 3;
const STATUS_OK = 0;
const STATUS_CONTINUE = 2;
/** The procedures whose stream carries a tunnelled migration (VIR_MIGRATE_TUNNELLED). */
const TUNNEL_PROCS: ReadonlySet<number> = new Set([MigrationProc.prepareTunnel3, MigrationProc.prepareTunnel3Params]);

/** Where a tunnelled migration's stream goes: a decoder of the QEMU stream, fed the stream messages' bodies. */
export type TunnelDecoderFactory = () => StreamDecoder;

/** One direction of a libvirt connection: where we are in the current message. */
class Direction1 {
  readonly header = new Uint8Array(LIBVIRT_HEADER_BYTES);
  readonly view = new DataView(this.header.buffer);
  headerFill = 0;
  /** Body bytes still to come for the current message. */
  bodyLeft = 0;
  /** Body being collected for decoding (null: skipped). */
  body: Uint8Array | null = null;
  bodyFill = 0;
  ts: Picos = 0n;
  dead = false;
  /** Framing lost (a hole swallowed a header): waiting for a segment that starts with one. */
  lost = false;
  /** The current message's body is tunnelled migration data (fed to the tunnel's decoder). */
  tunnelData = false;
  /** Bytes of the current message missing from the capture (its body is not decoded). */
  missing = 0;
  /** Some of `missing` was lost, not just cut by the snaplen. */
  anyLost = false;
  // current header
  length = 0; program = 0; version = 0; procedure = 0; type = 0; serial = 0; status = 0;
}

/**
 * Decodes one libvirt RPC connection (both directions). Messages are length-prefixed,
 * so only the 28-byte header is buffered; bodies are skipped unless they belong to a
 * migration procedure or an error reply, which are decoded from a bounded copy.
 */
export class LibvirtDecoder implements StreamDecoder {
  private readonly dirs = { c2s: new Direction1(), s2c: new Direction1() };
  /** serial → timestamp of the call (replies carry their call's serial). */
  private readonly calls = new Map<number, Picos>();

  /** The tunnelled migration stream's decoder, once its first data came (client → server only). */
  private tunnel?: StreamDecoder;
  private tunnelEnded = false;

  constructor(private readonly flow: FlowInfo, private readonly emit: Emit, private readonly openTunnel?: TunnelDecoderFactory) {}

  heldBytes(): number {
    // A pending call is a Map entry with a bigint: about 60 bytes.
    return (this.dirs.c2s.body?.length ?? 0) + (this.dirs.s2c.body?.length ?? 0) + this.calls.size * 60
      + (this.tunnel?.heldBytes?.() ?? 0);
  }

  data(dir: Direction, bytes: Uint8Array, ts: Picos): void {
    const d = this.dirs[dir];
    if (d.lost) {
      // Chunks after a hole start where a captured segment starts: resume only at one
      // that begins with a plausible header, else wait for the next.
      if (!startsWithHeader(bytes)) return;
      d.lost = false;
    }
    let off = 0;
    let guard = 0;
    while (off < bytes.length && !d.dead && guard++ < 1_000_000) {
      if (d.headerFill < LIBVIRT_HEADER_BYTES) {
        if (d.headerFill === 0) d.ts = ts;
        const n = Math.min(LIBVIRT_HEADER_BYTES - d.headerFill, bytes.length - off);
        d.header.set(bytes.subarray(off, off + n), d.headerFill);
        d.headerFill += n;
        off += n;
        if (d.headerFill === LIBVIRT_HEADER_BYTES && !this.startMessage(dir, d)) return;
      } else {
        const n = Math.min(d.bodyLeft, bytes.length - off);
        if (d.body) d.body.set(bytes.subarray(off, off + n), d.bodyFill);
        if (d.tunnelData && n > 0) this.tunnel!.data('c2s', bytes.subarray(off, off + n), ts);
        d.bodyFill += n;
        d.bodyLeft -= n;
        off += n;
      }
      if (d.headerFill === LIBVIRT_HEADER_BYTES && d.bodyLeft === 0) this.finishMessage(dir, d, ts);
    }
  }

  /**
   * The length word says where the next message starts, so bytes missing after it are
   * passed over: the message is still raised (its body undecoded). Only a hole that
   * takes (part of) a length word loses the framing, until the next segment that
   * starts with a header.
   */
  gap(dir: Direction, length: number, ts: Picos, kind: GapKind = 'lost'): void {
    const d = this.dirs[dir];
    if (d.dead || d.lost) return;
    let left = length;
    if (d.headerFill >= 4 && d.headerFill < LIBVIRT_HEADER_BYTES) {
      // Length known, rest of the header missing: pass over the message, raise nothing.
      const len = d.view.getUint32(0);
      const rest = len - d.headerFill;
      if (len < LIBVIRT_HEADER_BYTES || len > LIBVIRT_MAX_MESSAGE || rest > left) {
        this.loseFraming(dir, d, length, ts);
        return;
      }
      left -= rest;
      d.headerFill = 0;
      this.emit(streamAnomaly(this.flow, dir, LibvirtAnomaly.GAP_IN_HEADER, ts, { length: rest }));
    } else if (d.headerFill === LIBVIRT_HEADER_BYTES) {
      const n = Math.min(d.bodyLeft, left);
      if (d.tunnelData && n > 0) this.tunnel!.gap('c2s', n, ts, kind);
      d.bodyLeft -= n;
      d.missing += n;
      d.body = null;
      if (kind === 'lost') d.anyLost = true;
      left -= n;
      if (d.bodyLeft === 0) this.finishMessage(dir, d, ts);
    }
    if (left > 0) this.loseFraming(dir, d, left, ts);
  }

  end(dir: Direction, ts: Picos): void {
    const d = this.dirs[dir];
    if (dir === 'c2s') this.endTunnel(ts);
    if (d.dead) return;
    if (d.headerFill > 0) this.fail(dir, d, LibvirtAnomaly.ENDED_IN_MESSAGE, ts);
    d.dead = true;
  }

  /** Validates the header just completed; false when the direction is given up. */
  private startMessage(dir: Direction, d: Direction1): boolean {
    const v = d.view;
    d.length = v.getUint32(0);
    d.program = v.getUint32(4);
    d.version = v.getUint32(8);
    d.procedure = v.getInt32(12);
    d.type = v.getInt32(16);
    d.serial = v.getUint32(20);
    d.status = v.getInt32(24);
    if (d.length < LIBVIRT_HEADER_BYTES || d.length > LIBVIRT_MAX_MESSAGE) {
      return this.fail(dir, d, LibvirtAnomaly.BAD_LENGTH, d.ts, { length: d.length });
    }
    if (d.type < 0 || d.type >= MESSAGE_TYPES.length) return this.fail(dir, d, LibvirtAnomaly.BAD_TYPE, d.ts, { type: d.type });
    if (d.status < 0 || d.status >= STATUSES.length) return this.fail(dir, d, LibvirtAnomaly.BAD_STATUS, d.ts, { status: d.status });
    d.bodyLeft = d.length - LIBVIRT_HEADER_BYTES;
    d.bodyFill = 0;
    d.missing = 0;
    d.anyLost = false;
    const wanted = d.status === 1 || (d.program === REMOTE_PROGRAM && d.status === 0 && d.type !== STREAM_TYPE && isMigrationProc(d.procedure));
    d.tunnelData = dir === 'c2s' && d.type === STREAM_TYPE && d.status === STATUS_CONTINUE && d.program === REMOTE_PROGRAM
      && TUNNEL_PROCS.has(d.procedure) && this.openTunnel !== undefined && !this.tunnelEnded;
    if (d.tunnelData) this.tunnel ??= this.openTunnel!();
    d.body = wanted && d.bodyLeft <= MAX_DECODED_BODY ? new Uint8Array(d.bodyLeft) : null;
    return true;
  }

  private finishMessage(dir: Direction, d: Direction1, tsEnd: Picos): void {
    const kind = MESSAGE_TYPES[d.type]!;
    const isCall = d.type === 0 || d.type === 4;
    const isReply = d.type === 1 || d.type === 5;
    let callTs: Picos | undefined;
    if (isCall) {
      if (this.calls.size >= MAX_PENDING_CALLS) this.calls.delete(this.calls.keys().next().value!);
      this.calls.set(d.serial, d.ts);
    } else if (isReply) {
      callTs = this.calls.get(d.serial);
      this.calls.delete(d.serial);
    }
    let migration: LibvirtMigrationInfo | undefined;
    let error: { code: number; message: string } | undefined;
    if (d.missing > 0) d.body = null; // a body with a hole does not decode: not its fault
    if (d.body) {
      if (d.status === 1) error = decodeRemoteError(d.body);
      else migration = decodeMigrationBody(d.procedure, isReply, d.body);
      if ((d.status === 1 && !error) || (d.status === 0 && !migration)) {
        this.emit(streamAnomaly(this.flow, dir, LibvirtAnomaly.BAD_BODY, d.ts,
          { program: d.program, procedure: d.procedure, type: d.type }));
      }
    }
    const ends = this.ends(dir);
    this.emit({
      protocol: 'libvirt', kind, program: d.program, programName: programName(d.program), version: d.version,
      procedure: d.procedure, procedureName: procedureName(d.program, d.procedure), serial: d.serial,
      status: STATUSES[d.status]!, length: d.length, ts: d.ts, tsEnd, flowId: this.flow.id, src: ends.src, dst: ends.dst,
      ...(callTs !== undefined ? { callTs } : {}),
      ...(d.missing > 0 ? { missingBytes: d.missing, missingKind: d.anyLost ? 'lost' as const : 'cut' as const } : {}),
      ...(migration ? { migration } : {}),
      ...(error ? { error } : {}),
    });
    d.headerFill = 0;
    d.body = null;
    d.tunnelData = false;
    // The source finishing the tunnel's stream (virStreamFinish): the QEMU stream ends.
    if (dir === 'c2s' && d.type === STREAM_TYPE && d.status === STATUS_OK && TUNNEL_PROCS.has(d.procedure)) this.endTunnel(tsEnd);
  }

  private endTunnel(ts: Picos): void {
    if (!this.tunnel || this.tunnelEnded) return;
    this.tunnelEnded = true;
    this.tunnel.end('c2s', ts);
  }

  private ends(dir: Direction): { src: Endpoint; dst: Endpoint } {
    return dir === 'c2s' ? { src: this.flow.client, dst: this.flow.server } : { src: this.flow.server, dst: this.flow.client };
  }

  /** A hole took a message's length word: skip to the next segment that starts with a header. */
  private loseFraming(dir: Direction, d: Direction1, length: number, ts: Picos): void {
    this.emit(streamAnomaly(this.flow, dir, LibvirtAnomaly.FRAMING_LOST_RESYNC, ts, { length }));
    // Which of the lost bytes were tunnel data is unknown: the tunnelled stream cannot be followed.
    if (dir === 'c2s' && this.tunnel && !this.tunnelEnded) this.tunnel.gap('c2s', length, ts, 'lost');
    d.tunnelData = false;
    d.lost = true;
    d.headerFill = 0;
    d.bodyLeft = 0;
    d.body = null;
  }

  /** Framing is lost: report and stop decoding this direction (always false: "not started"). */
  private fail(dir: Direction, d: Direction1, def: AnomalyDef, ts: Picos, fields?: AnomalyFields): false {
    this.emit(streamAnomaly(this.flow, dir, def, ts, fields));
    if (dir === 'c2s') this.endTunnel(ts);
    d.dead = true;
    d.body = null;
    return false;
  }
}

/**
 * Does a segment start with a libvirt message header? A known program, version 1, a
 * message type and status in range and a length the protocol allows (checked on the
 * first 28 bytes: a chance match inside a body needs all five).
 */
export function startsWithHeader(b: Uint8Array): boolean {
  if (b.length < LIBVIRT_HEADER_BYTES) return false;
  const v = new DataView(b.buffer, b.byteOffset, LIBVIRT_HEADER_BYTES);
  const length = v.getUint32(0);
  const type = v.getInt32(16);
  const status = v.getInt32(24);
  return length >= LIBVIRT_HEADER_BYTES && length <= LIBVIRT_MAX_MESSAGE && isKnownProgram(v.getUint32(4))
    && v.getUint32(8) === 1 && type >= 0 && type < MESSAGE_TYPES.length && status >= 0 && status < STATUSES.length;
}
