/**
 * Hand-built protocol message sequences for the phase-engine tests: the shapes the
 * decoders raise (src/protocols/types.ts), with timestamps chosen by hand so every
 * expected duration is known exactly.
 */
import { PS_PER_US, type Picos } from '../../src/core/time.js';
import type { Endpoint } from '../../src/decode/types.js';
import type {
  AmqpMessage, Anomaly, HttpRequest, HttpResponse, IcmpEcho, LibvirtMigrationInfo,
  LibvirtRpcMessage, OsloEnvelope, ProtocolMessage, QemuMessage, TcpSegmentMarker,
} from '../../src/protocols/types.js';

export const T0: Picos = 1_764_000_000n * 1_000_000_000_000n;
/** µs offset → absolute picoseconds. */
export const us = (n: number): Picos => T0 + BigInt(n) * PS_PER_US;
export const dur = (n: number): Picos => BigInt(n) * PS_PER_US;
const ep = (ip: string, port: number): Endpoint => ({ ip, port });

export class Trace {
  readonly msgs: ProtocolMessage[] = [];
  private nextFlow = 1;
  flow(): number { return this.nextFlow++; }

  tcp(t: number, flowId: number, kind: TcpSegmentMarker['kind'], src: Endpoint, dst: Endpoint, dir: 'c2s' | 's2c' = 'c2s'): this {
    this.msgs.push({ protocol: 'tcp', kind, dir, ts: us(t), tsEnd: us(t), flowId, src, dst });
    return this;
  }

  libvirt(t: number, flowId: number, kind: 'call' | 'reply', client: Endpoint, server: Endpoint,
    procedureName: string, procedure: number, serial: number,
    extra: { migration?: LibvirtMigrationInfo; error?: string; program?: number } = {}): this {
    const m: LibvirtRpcMessage = {
      protocol: 'libvirt', kind, ts: us(t), tsEnd: us(t), flowId,
      src: kind === 'call' ? client : server, dst: kind === 'call' ? server : client,
      program: extra.program ?? 0x20008086, programName: 'remote', version: 1, procedure, procedureName, serial,
      status: extra.error !== undefined ? 'error' : 'ok', length: 100,
    };
    if (extra.migration) m.migration = extra.migration;
    if (extra.error !== undefined) m.error = { code: 1, message: extra.error };
    this.msgs.push(m);
    return this;
  }

  /** A record of a libvirt TLS connection (after the handshake), `plaintext` bytes in it (TLS 1.3: +17). */
  tlsRecord(t: number, flowId: number, fromClient: boolean, client: Endpoint, server: Endpoint, plaintext: number): this {
    this.msgs.push({
      protocol: 'libvirt', kind: 'tls-record', fromClient, recordLength: plaintext + 17, plaintext,
      ts: us(t), tsEnd: us(t), flowId, src: fromClient ? client : server, dst: fromClient ? server : client,
    });
    return this;
  }

  qemu(t: number, flowId: number, src: Endpoint, dst: Endpoint, body: Record<string, unknown> & { kind: QemuMessage['kind'] }): this {
    this.msgs.push({ protocol: 'qemu', ts: us(t), tsEnd: us(t), flowId, src, dst, streamBytes: 0, ...body } as QemuMessage);
    return this;
  }

  http(t: number, flowId: number, client: Endpoint, server: Endpoint, req: Partial<HttpRequest> & { method: string; path: string }): this {
    this.msgs.push({ protocol: 'http', kind: 'request', ts: us(t), tsEnd: us(t), flowId, src: client, dst: server, contentLength: 0, ...req });
    return this;
  }

  httpResponse(t: number, flowId: number, client: Endpoint, server: Endpoint, status: number): this {
    const r: HttpResponse = { protocol: 'http', kind: 'response', ts: us(t), tsEnd: us(t), flowId, src: server, dst: client, status, contentLength: 0 };
    this.msgs.push(r);
    return this;
  }

  amqp(t: number, flowId: number, kind: 'publish' | 'deliver', src: Endpoint, dst: Endpoint, oslo: Partial<OsloEnvelope>): this {
    const m: AmqpMessage = {
      protocol: 'amqp', kind, ts: us(t), tsEnd: us(t), flowId, src, dst, channel: 1,
      exchange: 'nova', routingKey: 'compute.dst', bodySize: 100,
      oslo: { isCall: false, isReply: false, ...oslo },
    };
    this.msgs.push(m);
    return this;
  }

  icmp(t: number, kind: IcmpEcho['kind'], client: string, vm: string, seq: number, id = 7): this {
    const [src, dst] = kind === 'echo-request' ? [client, vm] : [vm, client];
    this.msgs.push({ protocol: 'icmp', kind, ts: us(t), tsEnd: us(t), flowId: -1, src: ep(src, 0), dst: ep(dst, 0), id, seq });
    return this;
  }

  anomaly(t: number, flowId: number, kind: Anomaly['kind'], count: number, code = `TEST_${kind.toUpperCase().replaceAll('-', '_')}`,
    fields?: Anomaly['fields']): this {
    const a: Anomaly = { protocol: 'anomaly', kind, code, count, reason: `${code} test`, ts: us(t), tsEnd: us(t), flowId, src: ep('0.0.0.0', 0), dst: ep('0.0.0.0', 0) };
    if (fields !== undefined) a.fields = fields;
    this.msgs.push(a);
    return this;
  }

  sorted(): ProtocolMessage[] {
    return [...this.msgs].sort((a, b) => (a.ts < b.ts ? -1 : a.ts > b.ts ? 1 : 0));
  }
}

export interface KvmPlan {
  source?: string;
  destination?: string;
  domain?: string;
  uuid?: string;
  /** µs offset of the libvirt SYN. */
  at?: number;
  srcPort?: number;
  streamPort?: number;
  failPrepare?: boolean;
  streamEnd?: 'eof' | 'rst' | 'fin-no-eof';
  pingVm?: string;
  omit?: ReadonlySet<string>;
}

/**
 * A KVM p2p migration with known phase boundaries (µs offsets from `at`):
 * remote-connect 0–6800, preparation 10000–600000, transfer 601000–2569000,
 * finish 2570000–2642000, cleanup 2642000–2997000; switch-over at 2000000.
 */
export function kvmMigration(tr: Trace, plan: KvmPlan = {}): void {
  const S = plan.source ?? '10.0.0.1';
  const D = plan.destination ?? '10.0.0.2';
  const a = plan.at ?? 0;
  const omit = plan.omit ?? new Set<string>();
  const lc = ep(S, plan.srcPort ?? 40000);
  const ls = ep(D, 16509);
  const lf = tr.flow();
  const streamPort = plan.streamPort ?? 49152;
  const info = { domainName: plan.domain ?? 'instance-00000001', domainUuid: plan.uuid ?? '11111111-2222-3333-4444-555555555555' };
  if (!omit.has('syn')) tr.tcp(a, lf, 'syn', lc, ls);
  tr.tcp(a + 100, lf, 'syn-ack', ls, lc, 's2c');
  tr.libvirt(a + 500, lf, 'call', lc, ls, 'CONNECT_OPEN', 1, 1);
  if (!omit.has('open-reply')) tr.libvirt(a + 6800, lf, 'reply', lc, ls, 'CONNECT_OPEN', 1, 1);
  if (!omit.has('prepare-call')) tr.libvirt(a + 10000, lf, 'call', lc, ls, 'DOMAIN_MIGRATE_PREPARE3_PARAMS', 303, 5, { migration: info });
  if (plan.failPrepare) {
    tr.libvirt(a + 600000, lf, 'reply', lc, ls, 'DOMAIN_MIGRATE_PREPARE3_PARAMS', 303, 5, { error: 'unsupported configuration' });
    tr.tcp(a + 700000, lf, 'fin', lc, ls);
    return;
  }
  if (!omit.has('prepare-reply')) {
    tr.libvirt(a + 600000, lf, 'reply', lc, ls, 'DOMAIN_MIGRATE_PREPARE3_PARAMS', 303, 5,
      { migration: { ...info, migrateUri: `tcp:${D}:${streamPort}` } });
  }
  const sf = tr.flow();
  const qc = ep(S, (plan.srcPort ?? 40000) + 1);
  const qs = ep(D, streamPort);
  if (!omit.has('stream-syn')) tr.tcp(a + 601000, sf, 'syn', qc, qs);
  tr.qemu(a + 601200, sf, qc, qs, { kind: 'header', version: 3, streamBytes: 8 });
  // Pass 1: chunks every 50 ms; pass 2 and 3 shorter.
  let bytes = 8;
  let t = a + 602000;
  for (let pass = 1; pass <= 3; pass++) {
    tr.qemu(t, sf, qc, qs, { kind: 'pass-started', iteration: pass, streamBytes: bytes });
    const chunks = pass === 1 ? 20 : 4;
    for (let c = 0; c < chunks; c++) {
      bytes += 1_000_000;
      t += 50_000;
      tr.qemu(t, sf, qc, qs, { kind: 'ram-chunk', iteration: pass, pages: 244, passBytes: (c + 1) * 1_000_000, streamBytes: bytes });
    }
  }
  tr.qemu(a + 2000000, sf, qc, qs, { kind: 'switchover', iterations: 3, precopyBytes: bytes, streamBytes: bytes });
  if (plan.streamEnd === 'rst') {
    tr.tcp(a + 2100000, sf, 'rst', qc, qs);
    tr.libvirt(a + 2200000, lf, 'call', lc, ls, 'DOMAIN_MIGRATE_FINISH3_PARAMS', 306, 6);
    tr.libvirt(a + 2250000, lf, 'reply', lc, ls, 'DOMAIN_MIGRATE_FINISH3_PARAMS', 306, 6, { error: 'migration was cancelled' });
    tr.tcp(a + 2400000, lf, 'fin', lc, ls);
    return;
  }
  if (plan.streamEnd !== 'fin-no-eof') {
    tr.qemu(a + 2100000, sf, qc, qs, { kind: 'eof', iterations: 3, precopyBytes: bytes, stopCopyBytes: 500_000, passBytes: [20e6, 4e6, 4e6], streamBytes: bytes + 500_000 });
  }
  if (!omit.has('stream-fin')) tr.tcp(a + 2569000, sf, 'fin', qc, qs);
  if (plan.streamEnd === 'fin-no-eof') {
    // The decoder's summary of the cut stream follows the FIN that ended it.
    tr.qemu(a + 2569000, sf, qc, qs, { kind: 'cut', iterations: 4, precopyBytes: bytes, stopCopyBytes: 0, passBytes: [20e6, 4e6, 4e6, 0], streamBytes: bytes, normalPages: 7000, zeroPages: 100 });
  }
  if (!omit.has('finish-call')) tr.libvirt(a + 2570000, lf, 'call', lc, ls, 'DOMAIN_MIGRATE_FINISH3_PARAMS', 306, 6);
  if (!omit.has('finish-reply')) {
    tr.libvirt(a + 2642000, lf, 'reply', lc, ls, 'DOMAIN_MIGRATE_FINISH3_PARAMS', 306, 6,
      plan.streamEnd === 'fin-no-eof' ? { error: 'migration was cancelled' } : {});
  }
  tr.tcp(a + 2997000, lf, 'fin', lc, ls);
  if (plan.pingVm) pings(tr, plan.pingVm, a + 1_900_000, a + 2_100_000, a + 1_995_000, a + 2_015_000);
}

/**
 * Echo requests every 1 ms from 10.0.0.9 to `vm`, each answered 100 µs later except
 * the ones sent in [outFrom, outTo). Returns nothing; the outage is known by design.
 */
export function pings(tr: Trace, vm: string, from: number, to: number, outFrom: number, outTo: number, id = 7): void {
  let seq = 0;
  for (let t = from; t < to; t += 1000) {
    tr.icmp(t, 'echo-request', '10.0.0.9', vm, seq, id);
    if (t < outFrom || t >= outTo) tr.icmp(t + 100, 'echo-reply', '10.0.0.9', vm, seq, id);
    seq++;
  }
}
