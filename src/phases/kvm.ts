import { PS_PER_MS, toSeconds, type Picos } from '../core/time.js';
import type { Endpoint } from '../decode/types.js';
import type {
  LibvirtMigrationInfo, LibvirtRpcMessage, QemuMessage, TcpSegmentMarker,
} from '../protocols/types.js';
import type { EngineContext } from './context.js';
import type { Migration } from './migration.js';

const LIBVIRT_PORTS: ReadonlySet<number> = new Set([16509, 16514]);
const REMOTE_PROGRAM = 0x20008086;
const MAX_REMEMBERED_SYNS = 65_536;
const MEMORY_SHED_CANDIDATE = 'unrecognised libvirt connection forgotten (too many open at once)';
/** Progress events at most this often (wire time), plus one at each new RAM pass. */
const PROGRESS_INTERVAL: Picos = 100n * PS_PER_MS;

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

/** "tcp:10.0.0.2:49152", "tcp://host:49152", "tcp:[fd00::2]:49152" → host and port. */
export function parseMigrateUri(uri: string): { host: string; port: number } | undefined {
  const m = /^[a-z+]+:(?:\/\/)?(\[[^\]]+\]|[^:/]+):(\d+)/i.exec(uri);
  if (!m) return undefined;
  return { host: m[1]!.replace(/^\[|\]$/g, ''), port: Number(m[2]) };
}

function isIpLiteral(host: string): boolean {
  return /^\d+\.\d+\.\d+\.\d+$/.test(host) || host.includes(':');
}

interface FlowOpen { ts: Picos; client: Endpoint; server: Endpoint; synLost: boolean }

/**
 * The libvirt part of a migration (remote-connect … cleanup) from TCP markers,
 * libvirt RPC messages and the QEMU stream.
 */
export class KvmTracker {
  private readonly opens = new Map<number, FlowOpen>();
  private readonly progress = new WeakMap<Migration, { ts: Picos; bytes: number; iteration: number }>();

  constructor(private readonly ctx: EngineContext) {}

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
    // Both connections are closed by the source (the client) first; a first FIN from
    // the destination may mean the source's was lost: flag it rather than trust it.
    const open = this.opens.get(msg.flowId);
    const fromServer = open ? msg.src.ip === open.server.ip && msg.src.port === open.server.port : msg.dir === 's2c';
    const why = msg.kind === 'fin' && fromServer
      ? "the source's FIN was not seen first: ended at the destination's FIN (the source's may have been lost; duration is an upper bound)"
      : undefined;
    if (m.libvirtFlow === msg.flowId) this.libvirtClosed(m, msg.ts, msg.kind === 'rst', why);
    else if (m.streamFlow === msg.flowId) this.streamClosed(m, msg.ts, msg.kind === 'rst', why);
  }

  onLibvirt(msg: LibvirtRpcMessage): void {
    if (this.ctx.retiredFlows.has(msg.flowId)) return;
    let m = this.ctx.flowOwner.get(msg.flowId);
    if (m && m.libvirtFlow !== msg.flowId) return;
    const proc = classify(msg);
    if (!m) {
      if (msg.program !== REMOTE_PROGRAM) return;
      const open = this.opens.get(msg.flowId);
      if (open && !open.synLost) {
        this.openLibvirt(msg.flowId, open.client.ip, open.server.ip, open.ts);
      } else {
        const client = msg.kind === 'reply' ? msg.dst.ip : msg.src.ip;
        const server = msg.kind === 'reply' ? msg.src.ip : msg.dst.ip;
        this.openLibvirt(msg.flowId, client, server, open?.ts ?? msg.ts,
          'libvirt connection opening not captured; started at its first captured packet (duration is a lower bound)');
      }
      m = this.ctx.flowOwner.get(msg.flowId);
      if (!m) return;
    }
    if (proc === undefined) return;
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
    let m = this.ctx.flowOwner.get(msg.flowId);
    if (!m) {
      if (this.ctx.retiredFlows.has(msg.flowId)) return;
      m = this.ctx.open.find((x) => x.streamFlow === undefined && x.libvirtFlow !== undefined
        && x.source === msg.src.ip && x.destination === msg.dst.ip)
        ?? this.ctx.candidateFor(msg.src.ip, msg.dst.ip);
      if (!m) {
        // Only the stream's first record proves a migration began on this connection.
        if (msg.kind !== 'header' || this.libvirtMayOwn(msg.src.ip)) return;
        m = this.ctx.create('kvm');
        m.qemuOnly = true;
        m.recognised = true;
        m.source = msg.src.ip;
        m.destination = msg.dst.ip;
      }
      const open = this.opens.get(msg.flowId);
      if (open && !open.synLost) this.attachStream(m, msg.flowId, open.ts);
      else this.attachStream(m, msg.flowId, open?.ts ?? msg.ts,
        'migration stream opening not captured; started at its first captured packet (duration is a lower bound)');
      this.ctx.tryAnnounce(m);
    }
    if (m.streamFlow !== msg.flowId) return;
    switch (msg.kind) {
      case 'ram-chunk': {
        const last = this.progress.get(m);
        if (last && last.iteration === msg.iteration && msg.ts - last.ts < PROGRESS_INTERVAL) break;
        const since = last?.ts ?? m.phases.get('transfer')?.start ?? msg.ts;
        const dt = toSeconds(msg.ts - since);
        const rate = dt > 0 ? (msg.streamBytes - (last?.bytes ?? 0)) / dt : 0;
        this.progress.set(m, { ts: msg.ts, bytes: msg.streamBytes, iteration: msg.iteration });
        m.emit({ type: 'progress', migration: '', ts: msg.ts, bytes: msg.streamBytes, rate, iteration: msg.iteration });
        break;
      }
      case 'switchover':
        m.emit({ type: 'switchover', migration: '', ts: msg.ts, iterations: msg.iterations, precopyBytes: msg.precopyBytes });
        this.ctx.downtime.onSwitchover(m, msg.ts);
        break;
      case 'eof':
        m.streamEof = true;
        // eof.iterations counts the pre-copy passes and the stop-and-copy pass
        // (src/protocols/qemu/types.ts relates it to QEMU's dirty-sync-count).
        m.stream = {
          bytes: msg.streamBytes, iterations: msg.iterations,
          precopyBytes: msg.precopyBytes, stopCopyBytes: msg.stopCopyBytes,
          ...(msg.ramStopCopyBytes !== undefined ? { ramStopCopyBytes: msg.ramStopCopyBytes } : {}),
        };
        break;
      default:
        break;
    }
  }

  private remember(flowId: number, open: FlowOpen): void {
    if (this.opens.size >= MAX_REMEMBERED_SYNS) {
      const oldest = this.opens.keys().next().value;
      if (oldest !== undefined) this.opens.delete(oldest);
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
      const recognised = (roles.source === client && roles.destination === server)
        || this.ctx.knownPairs.has(`${client}>${server}`);
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
      if (shed !== undefined) this.ctx.shed(MEMORY_SHED_CANDIDATE, ts);
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
    if (m) this.attachStream(m, flowId, open.ts, uncertain);
  }

  /**
   * Could a libvirt (or OpenStack) migration from `source` still claim a QEMU stream?
   * Then a stream it did not claim is left alone, as before; a bare migration is only
   * made when no such migration is open (QEMU driven over QMP alone).
   */
  private libvirtMayOwn(source: string): boolean {
    return this.ctx.hasCandidateFrom(source) || this.ctx.open.some((x) => !x.qemuOnly && x.outcome === undefined
      && (x.source === undefined || x.source === source || x.novaSource === source));
  }

  private attachStream(m: Migration, flowId: number, ts: Picos, uncertain?: string): void {
    m.streamFlow = flowId;
    this.ctx.flowOwner.set(flowId, m);
    m.beginPhase('transfer', ts, uncertain);
  }

  private streamClosed(m: Migration, ts: Picos, rst: boolean, why?: string): void {
    if (m.ended('transfer')) return;
    const holes = m.holeFlows.has(m.streamFlow!);
    if (!m.streamEof && holes) {
      m.endPhase('transfer', ts, 'TCP hole on the migration stream: QEMU_VM_EOF may have been lost (duration is an upper bound)');
      // No libvirt reply will tell how it ended: the stream was all there was.
      if (m.qemuOnly) this.ctx.close(m, ts, 'TCP hole on the migration stream: QEMU_VM_EOF may have been lost');
      return;
    }
    m.endPhase('transfer', ts, why);
    if (rst && !m.streamEof) m.fail('failed', 'migration stream reset (RST) before QEMU_VM_EOF');
    else if (!m.streamEof) m.fail('cancelled', 'migration stream closed before QEMU_VM_EOF');
    if (m.qemuOnly) this.ctx.close(m, ts);
  }

  private libvirtClosed(m: Migration, ts: Picos, rst: boolean, why?: string): void {
    if (m.libvirtDone) return;
    m.libvirtDone = true;
    if (!m.recognised) {
      this.ctx.discard(m);
      return;
    }
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
