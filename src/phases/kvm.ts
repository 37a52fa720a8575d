import type { Picos } from '../core/time.js';
import type { Endpoint } from '../decode/types.js';
import type {
  LibvirtMessage, LibvirtMigrationInfo, LibvirtRpcMessage, QemuMessage, TcpSegmentMarker,
} from '../protocols/types.js';
import { namedPair, type EngineContext } from './context.js';
import { FifoQueue } from './fifo.js';
import type { Migration } from './migration.js';
import { PhaseAnomaly } from './anomaly-codes.js';
import { BareQemuMigrations } from './bare-qemu.js';
import { EncryptedStreams } from './encrypted.js';
import { LibvirtTlsRounds } from './libvirt-tls.js';
import { JobStatsThrottle } from './job-stats.js';
import { isIpLiteral, parseMigrateUri } from './migrate-uri.js';
import { MultifdChannels } from './multifd-channels.js';
import { PrecopyStream } from './precopy-stream.js';

const LIBVIRT_PORTS: ReadonlySet<number> = new Set([16509, 16514]);
const REMOTE_PROGRAM = 0x20008086;
const MAX_REMEMBERED_SYNS = 65_536;

type MigrationProc = 'open' | 'prepare' | 'finish' | 'other';
const PROC_BY_NAME: Record<string, MigrationProc> = {
  CONNECT_OPEN: 'open',
  DOMAIN_MIGRATE_PREPARE3: 'prepare',
  DOMAIN_MIGRATE_PREPARE3_PARAMS: 'prepare',
  DOMAIN_MIGRATE_PREPARE_TUNNEL3: 'prepare',
  DOMAIN_MIGRATE_PREPARE_TUNNEL3_PARAMS: 'prepare',
  DOMAIN_MIGRATE_FINISH3: 'finish',
  DOMAIN_MIGRATE_FINISH3_PARAMS: 'finish',
  DOMAIN_MIGRATE_BEGIN3: 'other',
  DOMAIN_MIGRATE_BEGIN3_PARAMS: 'other',
  DOMAIN_MIGRATE_PERFORM3: 'other',
  DOMAIN_MIGRATE_PERFORM3_PARAMS: 'other',
  DOMAIN_MIGRATE_CONFIRM3: 'other',
  DOMAIN_MIGRATE_CONFIRM3_PARAMS: 'other',
};
/** remote_protocol.x numbers, for a decoder that could not name the procedure. */
const PROC_BY_NUMBER: Record<number, MigrationProc> = {
  1: 'open', 211: 'prepare', 212: 'prepare', 214: 'finish', 303: 'prepare', 304: 'prepare', 306: 'finish',
  210: 'other', 213: 'other', 215: 'other', 302: 'other', 305: 'other', 307: 'other',
};

function classify(msg: LibvirtRpcMessage): MigrationProc | undefined {
  if (msg.program !== REMOTE_PROGRAM) return undefined;
  return PROC_BY_NAME[msg.procedureName] ?? PROC_BY_NUMBER[msg.procedure];
}

interface FlowOpen { ts: Picos; client: Endpoint; server: Endpoint; synLost: boolean }

/**
 * The libvirt part of a migration (remote-connect … cleanup) from TCP markers,
 * libvirt RPC messages and the QEMU stream.
 */
export class KvmTracker {
  private readonly opens = new Map<number, FlowOpen>();
  /** Flow ids of `opens` in insertion order (a Map used as a queue costs O(deleted) per oldest-lookup in V8). */
  private readonly openOrder = new FifoQueue<number>();
  private readonly bare: BareQemuMigrations;
  private readonly encrypted: EncryptedStreams;
  private readonly channels: MultifdChannels;
  private readonly tlsRounds: LibvirtTlsRounds;
  private readonly jobStats: JobStatsThrottle;
  private readonly stream: PrecopyStream;

  constructor(private readonly ctx: EngineContext, downtimeLimit: Picos) {
    const openedAt = (flowId: number): Picos | undefined => this.opens.get(flowId)?.ts;
    this.bare = new BareQemuMigrations(ctx);
    this.stream = new PrecopyStream(ctx, downtimeLimit, this.bare);
    this.jobStats = new JobStatsThrottle(ctx);
    this.tlsRounds = new LibvirtTlsRounds(ctx);
    this.encrypted = new EncryptedStreams(ctx, this.bare, openedAt);
    this.channels = new MultifdChannels(ctx, openedAt, (m, ts) => this.stream.progress(m, ts), (m) => this.bare.settle(m));
  }

  onTcp(msg: TcpSegmentMarker): void {
    if (msg.kind === 'syn' || (msg.kind === 'syn-ack' && !this.opens.has(msg.flowId))) {
      const synLost = msg.kind === 'syn-ack';
      const open: FlowOpen = synLost
        ? { ts: msg.ts, client: msg.dst, server: msg.src, synLost }
        : { ts: msg.ts, client: msg.src, server: msg.dst, synLost };
      this.remember(msg.flowId, open);
      if (this.ctx.retiredFlows.has(msg.flowId) || this.ctx.flowOwner.has(msg.flowId)) return;
      const why = synLost ? 'SYN not captured; started at the SYN-ACK (duration is a lower bound)' : undefined;
      if (LIBVIRT_PORTS.has(open.server.port)) this.openLibvirt(msg.flowId, open.client.ip, open.server.ip, open.ts, why);
      else this.matchStream(msg.flowId, open, why);
      return;
    }
    if (msg.kind !== 'fin' && msg.kind !== 'rst') return;
    const m = this.ctx.flowOwner.get(msg.flowId);
    if (!m) return;
    // The first FIN in either direction ends the phase (libvirt 9.0's destination often
    // closes first); it is doubtful only when the capture shows the other side's FIN may
    // have come earlier and been lost.
    const why = msg.kind === 'fin' && msg.peerFinMayBeLost !== undefined
      ? `ended at the first FIN captured, but ${msg.peerFinMayBeLost} (duration is an upper bound)`
      : undefined;
    if (m.libvirtFlow === msg.flowId) this.libvirtClosed(m, msg.ts, msg.kind === 'rst', why);
    else if (m.streamFlow === msg.flowId) this.streamClosed(m, msg.ts, msg.kind === 'rst', why);
  }

  onLibvirt(msg: LibvirtMessage): void {
    if (msg.kind !== 'tls-record' && msg.procedureName === 'DOMAIN_GET_JOB_STATS') { this.jobStats.on(msg); return; }
    if (this.ctx.retiredFlows.has(msg.flowId)) return;
    let m = this.ctx.flowOwner.get(msg.flowId);
    if (m && m.libvirtFlow !== msg.flowId) return;
    if (!m) {
      if (msg.kind !== 'tls-record' && msg.program !== REMOTE_PROGRAM) return;
      const open = this.opens.get(msg.flowId);
      if (open && !open.synLost) {
        this.openLibvirt(msg.flowId, open.client.ip, open.server.ip, open.ts);
      } else {
        const fromServer = msg.kind === 'tls-record' ? !msg.fromClient : msg.kind === 'reply';
        const client = fromServer ? msg.dst.ip : msg.src.ip;
        const server = fromServer ? msg.src.ip : msg.dst.ip;
        this.openLibvirt(msg.flowId, client, server, open?.ts ?? msg.ts,
          'libvirt connection opening not captured; started at its first captured packet (duration is a lower bound)');
      }
      m = this.ctx.flowOwner.get(msg.flowId);
      if (!m) return;
    }
    if (msg.kind === 'tls-record') {
      m.libvirtTls = true;
      this.tlsRounds.on(m, msg);
      return;
    }
    const proc = classify(msg);
    if (proc === undefined) return;
    if (msg.kind === 'stream') {
      // A tunnelled migration's stream: the source finishing it ends Transfer.
      if (proc === 'prepare' && msg.status === 'ok' && m.tunnelled && msg.src.ip === m.source && !m.ended('transfer')) {
        m.endPhase('transfer', msg.ts);
      }
      return;
    }
    if (msg.migration) this.absorb(m, msg.migration);
    const isReply = msg.kind === 'reply' || msg.kind === 'reply-with-fds';
    const isCall = msg.kind === 'call' || msg.kind === 'call-with-fds';
    const failure = msg.status === 'error' ? (msg.error?.message ?? 'error status') : undefined;
    switch (proc) {
      case 'open':
        if (isReply) {
          m.endPhase('remote-connect', msg.ts);
          if (failure !== undefined) m.fail('failed', `connect-open failed: ${failure}`);
        }
        break;
      case 'prepare':
        m.recognised = true;
        if (isCall) m.beginPhase('preparation', msg.ts);
        else if (isReply) {
          m.endPhase('preparation', msg.ts);
          if (failure !== undefined) {
            // The source releases what it set up until it closes the connection.
            m.fail('failed', `prepare3 failed: ${failure}`);
            m.beginPhase('cleanup', msg.ts);
          }
        }
        break;
      case 'finish':
        m.recognised = true;
        if (isCall) m.beginPhase('finish', msg.ts);
        else if (isReply) {
          m.endPhase('finish', msg.ts);
          if (failure !== undefined) m.fail('failed', `finish3 failed: ${failure}`);
          m.beginPhase('cleanup', msg.ts);
        }
        break;
      case 'other':
        m.recognised = true;
        break;
    }
    if (m.recognised) this.ctx.promote(m);
    this.ctx.tryAnnounce(m);
  }

  onQemu(msg: QemuMessage): void {
    if (msg.kind === 'multifd-channel' || msg.kind === 'multifd-packet' || msg.kind === 'multifd-end') {
      this.channels.on(msg);
      return;
    }
    if (msg.kind === 'encrypted' || msg.kind === 'encrypted-end') {
      this.encrypted.on(msg);
      return;
    }
    let m = this.ctx.flowOwner.get(msg.flowId);
    if (m && m.libvirtFlow === msg.flowId && m.streamFlow === undefined && msg.kind === 'header') {
      // Tunnelled (VIR_MIGRATE_TUNNELLED): the stream travels in the libvirt connection's
      // stream messages; Transfer runs from its first data to the source finishing it.
      m.tunnelled = true;
      m.streamFlow = msg.flowId;
      m.beginPhase('transfer', msg.ts);
    }
    if (!m) {
      if (this.ctx.retiredFlows.has(msg.flowId)) return;
      // Only the stream's first record proves a migration began on this connection.
      m = this.bare.ownerFor(msg.src.ip, msg.dst.ip, msg.kind === 'header');
      if (!m) return;
      const open = this.opens.get(msg.flowId);
      if (open && !open.synLost) this.attachStream(m, msg.flowId, msg.src.ip, msg.dst, open.ts);
      else this.attachStream(m, msg.flowId, msg.src.ip, msg.dst, open?.ts ?? msg.ts,
        'migration stream opening not captured; started at its first captured packet (duration is a lower bound)');
      this.ctx.tryAnnounce(m);
    }
    if (m.streamFlow !== msg.flowId) return;
    this.stream.on(m, msg);
  }

  private remember(flowId: number, open: FlowOpen): void {
    if (!this.opens.has(flowId)) {
      if (this.opens.size >= MAX_REMEMBERED_SYNS) this.opens.delete(this.openOrder.shift()!);
      this.openOrder.push(flowId);
    }
    this.opens.set(flowId, open);
  }

  private openLibvirt(flowId: number, client: string, server: string, ts: Picos, uncertain?: string): void {
    // An OpenStack migration whose nova part came from this host is waiting for it.
    // With several waiting (overlapping runs), the one whose initialization ended first.
    const waiting = this.ctx.open.filter((x) => x.scenario === 'openstack' && x.libvirtFlow === undefined
      && x.outcome === undefined && (x.novaSource ?? x.source ?? client) === client);
    const initEnd = (x: Migration): Picos | undefined => x.phases.get('initialization')?.end;
    let m = waiting.filter((x) => initEnd(x) !== undefined)
      .sort((a, b) => (initEnd(a)! < initEnd(b)! ? -1 : initEnd(a)! > initEnd(b)! ? 1 : 0))[0];
    m ??= waiting[0];
    let candidate = false;
    if (!m) {
      const roles = this.ctx.roles;
      const recognised = namedPair(roles, client, server) || this.ctx.knownPairs.has(`${client}>${server}`);
      candidate = !recognised;
      m = this.ctx.create('kvm', candidate);
      m.recognised = recognised;
    }
    if (!m.announced) {
      m.source = client;
      m.destination = server;
    }
    m.libvirtFlow = flowId;
    this.ctx.flowOwner.set(flowId, m);
    if (candidate) {
      const shed = this.ctx.addCandidate(m, flowId);
      if (shed !== undefined) this.ctx.shed(PhaseAnomaly.CANDIDATE_SHED, ts);
    }
    m.beginPhase('remote-connect', ts, uncertain);
    this.ctx.tryAnnounce(m);
  }

  private absorb(m: Migration, info: LibvirtMigrationInfo): void {
    if (info.domainName !== undefined && m.domain === undefined) m.domain = info.domainName;
    if (info.domainUuid !== undefined && m.domainUuid === undefined) m.domainUuid = info.domainUuid;
    if (info.migrateUri !== undefined && m.migrateUri === undefined) {
      const uri = parseMigrateUri(info.migrateUri);
      if (uri) m.migrateUri = uri;
    }
  }

  private matchStream(flowId: number, open: FlowOpen, uncertain?: string): void {
    const m = this.ctx.open.find((x) => x.migrateUri !== undefined && x.streamFlow === undefined
      && x.source === open.client.ip && x.migrateUri.port === open.server.port
      && (x.migrateUri.host === open.server.ip || (!isIpLiteral(x.migrateUri.host) && x.destination === open.server.ip)));
    if (m) this.attachStream(m, flowId, open.client.ip, open.server, open.ts, uncertain);
  }

  private attachStream(m: Migration, flowId: number, client: string, server: Endpoint, ts: Picos, uncertain?: string): void {
    m.streamFlow = flowId;
    m.streamServer = server;
    // Channels whose first packets came before the main stream's first record.
    this.channels.claim(m, client, server);
    this.ctx.flowOwner.set(flowId, m);
    m.beginPhase('transfer', ts, uncertain);
  }

  private streamClosed(m: Migration, ts: Picos, rst: boolean, why?: string): void {
    if (m.ended('transfer')) return;
    // An encrypted stream: its figures and end come with the decoder's summary just after.
    if (m.encryptedStream && !rst) return;
    const holes = m.holeFlows.has(m.streamFlow!);
    if (!m.streamEof && holes) {
      m.endPhase('transfer', ts, 'TCP hole on the migration stream: QEMU_VM_EOF may have been lost (duration is an upper bound)');
      // No libvirt reply will tell how it ended: the stream was all there was.
      if (m.qemuOnly) this.ctx.close(m, ts, 'TCP hole on the migration stream: QEMU_VM_EOF may have been lost');
      return;
    }
    m.endPhase('transfer', ts, why);
    if (m.streamCut && !m.streamEof) {
      // How the stream ended is not in the capture; libvirt's replies will tell. A bare
      // stream closes with the decoder's byte count, which follows this marker.
      if (m.qemuOnly) this.bare.deferCut(m, ts);
      return;
    }
    if (rst && !m.streamEof) m.fail('failed', 'migration stream reset (RST) before QEMU_VM_EOF');
    else if (!m.streamEof) m.fail('cancelled', 'migration stream closed before QEMU_VM_EOF');
    if (!m.qemuOnly) return;
    // The decoder's summary of a cut stream follows this marker, and multifd channels
    // may close after the main stream: close when they are in.
    this.bare.defer(m, ts, !m.streamEof);
  }

  /** Closes the bare migrations whose close waits for what is not coming (see BareQemuMigrations.flush). */
  flushDeferred(next?: { flowId: number; ts: Picos }): void {
    this.bare.flush(next);
  }

  get hasDeferred(): boolean {
    return this.bare.hasDeferred;
  }

  private libvirtClosed(m: Migration, ts: Picos, rst: boolean, why?: string): void {
    if (m.libvirtDone) return;
    m.libvirtDone = true;
    if (!m.recognised) {
      this.ctx.discard(m);
      return;
    }
    if (m.libvirtTls) this.tlsRounds.closed(m);
    if (m.outcome === undefined) {
      if (rst && !m.ended('finish')) m.fail('failed', 'libvirt connection reset (RST)');
      else if (!m.has('preparation')) m.fail('cancelled', 'libvirt connection closed before prepare3');
    }
    if (m.outcome === undefined || m.has('cleanup')) m.endPhase('cleanup', ts, why);
    else for (const p of ['remote-connect', 'preparation', 'transfer', 'finish'] as const) {
      // A failed migration: whatever is still open ends with the connection.
      if (m.isOpen(p)) m.endPhase(p, ts, `${p} interrupted: the libvirt connection closed`);
    }
    this.ctx.settle(m, ts);
  }
}
