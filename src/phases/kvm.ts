import { PS_PER_MS, toSeconds, type Picos } from '../core/time.js';
import type { Endpoint } from '../decode/types.js';
import type {
  LibvirtMessage, LibvirtMigrationInfo, LibvirtRpcMessage, QemuMessage, TcpSegmentMarker,
} from '../protocols/types.js';
import { namedPair, type EngineContext } from './context.js';
import { estimateConvergence, type PassStart } from './convergence.js';
import { FifoQueue } from './fifo.js';
import type { StreamSummary } from './events.js';
import type { Migration } from './migration.js';
import { PhaseAnomaly } from './anomaly-codes.js';
import { BareQemuMigrations } from './bare-qemu.js';
import { EncryptedStreams } from './encrypted.js';
import { LibvirtTlsRounds } from './libvirt-tls.js';
import { JobStatsThrottle } from './job-stats.js';
import { isIpLiteral, parseMigrateUri } from './migrate-uri.js';
import { MultifdChannels } from './multifd-channels.js';

/** Page counts by encoding, when the stream used XBZRLE or compression. */
function encodings(msg: { xbzrlePages?: number; xbzrleBytes?: number; compressedPages?: number; compressedBytes?: number }): Partial<StreamSummary> {
  return {
    ...(msg.xbzrlePages !== undefined ? { xbzrlePages: msg.xbzrlePages, xbzrleBytes: msg.xbzrleBytes ?? 0 } : {}),
    ...(msg.compressedPages !== undefined ? { compressedPages: msg.compressedPages, compressedBytes: msg.compressedBytes ?? 0 } : {}),
  };
}

const LIBVIRT_PORTS: ReadonlySet<number> = new Set([16509, 16514]);
const REMOTE_PROGRAM = 0x20008086;
const MAX_REMEMBERED_SYNS = 65_536;
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

interface FlowOpen { ts: Picos; client: Endpoint; server: Endpoint; synLost: boolean }

interface PassState {
  prev?: PassStart;
  cur?: PassStart;
  lastPrecopyTs?: Picos;
  switchoverTs?: Picos;
  /** The last pre-copy packet before the switch-over: the VM stopped after it. */
  pausedAfter?: Picos;
}

/**
 * The libvirt part of a migration (remote-connect … cleanup) from TCP markers,
 * libvirt RPC messages and the QEMU stream.
 */
export class KvmTracker {
  private readonly opens = new Map<number, FlowOpen>();
  /** Flow ids of `opens` in insertion order (a Map used as a queue costs O(deleted) per oldest-lookup in V8). */
  private readonly openOrder = new FifoQueue<number>();
  private readonly progressState = new WeakMap<Migration, { ts: Picos; bytes: number; mainBytes: number; iteration: number }>();
  private readonly bare: BareQemuMigrations;
  private readonly encrypted: EncryptedStreams;
  private readonly channels: MultifdChannels;
  private readonly tlsRounds: LibvirtTlsRounds;
  private readonly jobStats: JobStatsThrottle;

  /** The last two pre-copy pass starts (all the convergence estimate needs) and the
   *  latest pre-copy packet, which bounds when the VM paused. */
  private readonly passes = new WeakMap<Migration, PassState>();

  constructor(private readonly ctx: EngineContext, private readonly downtimeLimit: Picos) {
    const openedAt = (flowId: number): Picos | undefined => this.opens.get(flowId)?.ts;
    this.bare = new BareQemuMigrations(ctx);
    this.jobStats = new JobStatsThrottle(ctx);
    this.tlsRounds = new LibvirtTlsRounds(ctx);
    this.encrypted = new EncryptedStreams(ctx, this.bare, openedAt);
    this.channels = new MultifdChannels(ctx, openedAt, (m, ts) => this.progress(m, ts), (m) => this.bare.settle(m));
  }

  private passState(m: Migration): PassState {
    let s = this.passes.get(m);
    if (!s) this.passes.set(m, (s = {}));
    return s;
  }

  /**
   * Pass `cur` ended at `ts`/`bytes`: emit its size and the convergence estimate. Not
   * with multifd: its pages (and so the passes' sizes) are on the channels.
   */
  private passEnded(m: Migration, ts: Picos, bytes: number, switchover: boolean): void {
    const s = this.passState(m);
    if (!s.cur || m.multifd) return;
    const est = estimateConvergence(s.prev, s.cur, ts, bytes, this.downtimeLimit, switchover);
    if (est) m.emit({ ...est, migration: '' });
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
    switch (msg.kind) {
      case 'pass-started': {
        this.passEnded(m, msg.ts, msg.streamBytes, false);
        const s = this.passState(m);
        if (s.cur) s.prev = s.cur;
        s.cur = { iteration: msg.iteration, ts: msg.ts, bytes: msg.streamBytes };
        s.lastPrecopyTs = msg.ts;
        break;
      }
      case 'ram-chunk':
        this.passState(m).lastPrecopyTs = msg.ts;
        m.multifd?.chunkEnded();
        this.progress(m, msg.ts, msg.streamBytes, msg.iteration);
        break;
      case 'switchover': {
        // With multifd the pages (and so the passes) are on the channels.
        const mf = m.multifd;
        mf?.switchover();
        const iterations = mf ? Math.max(mf.passes, msg.iterations) : msg.iterations;
        const precopyBytes = msg.precopyBytes + (mf ? mf.bytes : 0);
        // A switch to post-copy ends pre-copy without converging: its last estimate stands.
        this.passEnded(m, msg.ts, msg.precopyBytes, msg.mechanism !== 'postcopy');
        const s = this.passState(m);
        s.switchoverTs = msg.ts;
        s.pausedAfter = s.lastPrecopyTs;
        m.emit({ type: 'switchover', migration: '', ts: msg.ts, iterations, precopyBytes, ...(msg.mechanism ? { mechanism: msg.mechanism } : {}) });
        if (msg.mechanism === 'postcopy') m.postcopyStart = msg.ts;
        this.ctx.downtime.onSwitchover(m, msg.ts);
        break;
      }
      case 'payload-cut':
        m.streamCut = true;
        break;
      case 'cut-end':
        m.stream = { bytes: msg.streamBytes, payloadCutBytes: msg.cutBytes };
        this.bare.cutCounted(m);
        break;
      case 'eof':
        m.streamEof = true;
        // eof.iterations counts the pre-copy passes and the stop-and-copy pass
        // (src/protocols/qemu/types.ts relates it to QEMU's dirty-sync-count).
        m.stream = {
          bytes: msg.streamBytes, iterations: msg.iterations,
          precopyBytes: msg.precopyBytes, stopCopyBytes: msg.stopCopyBytes,
          ...(msg.ramStopCopyBytes !== undefined ? { ramStopCopyBytes: msg.ramStopCopyBytes } : {}),
          ...(msg.postcopyBytes !== undefined ? { postcopyBytes: msg.postcopyBytes } : {}),
          ...(msg.requestLatency !== undefined ? { postcopyLatency: { ...msg.requestLatency } } : {}),
          ...encodings(msg),
        };
        this.pauseSeen(m, msg.ts);
        if (msg.postcopyBytes !== undefined) m.postcopyEnd = msg.ts;
        break;
      case 'page-request':
        // Post-copy page faults, counted until the migration closes (they can follow EOF).
        m.postcopyRequests = (m.postcopyRequests ?? 0) + 1;
        break;
      case 'cut':
        // A cancelled or failed stream: what it got through. It arrives just after the
        // FIN/RST marker that closed the stream (the decoder hears of the end last).
        m.stream = {
          bytes: msg.streamBytes, iterations: msg.iterations,
          precopyBytes: msg.precopyBytes, stopCopyBytes: msg.stopCopyBytes, ...encodings(msg),
        };
        m.awaitingCut = false;
        this.bare.settle(m);
        break;
      default:
        break;
    }
  }

  /**
   * A progress event: at most every PROGRESS_INTERVAL, and at each new pass. Bytes are
   * the main stream's (as of its last RAM chunk) plus all multifd channels'.
   */
  private progress(m: Migration, ts: Picos, mainBytes?: number, mainIteration?: number): void {
    const last = this.progressState.get(m);
    const main = mainBytes ?? last?.mainBytes ?? 0;
    const mf = m.multifd;
    const iteration = mf && mf.passes > 0 ? mf.passes : (mainIteration ?? last?.iteration ?? 0);
    const bytes = main + (mf ? mf.bytes : 0);
    if (last && last.iteration === iteration && ts - last.ts < PROGRESS_INTERVAL) {
      last.mainBytes = main;
      return;
    }
    const since = last?.ts ?? m.phases.get('transfer')?.start ?? ts;
    const dt = toSeconds(ts - since);
    const rate = dt > 0 ? (bytes - (last?.bytes ?? 0)) / dt : 0;
    this.progressState.set(m, { ts, bytes, mainBytes: main, iteration });
    m.emit({ type: 'progress', migration: '', ts, bytes, rate, iteration, ...(m.cpuThrottle ? { throttle: m.cpuThrottle.last } : {}) });
  }

  /**
   * The VM pause as the stream shows it: from the switch-over (END(ram), written once
   * the VM stopped) to the end of stop-and-copy (EOF). The VM stopped after the last
   * pre-copy packet and before END(ram): the true pause is up to that gap longer.
   */
  private pauseSeen(m: Migration, eofTs: Picos): void {
    const s = this.passState(m);
    // After a switch to post-copy the VM runs on the destination long before EOF.
    if (s.switchoverTs === undefined || !m.stream || eofTs < s.switchoverTs || m.postcopyStart !== undefined) return;
    const min = eofTs - s.switchoverTs;
    const before = s.pausedAfter !== undefined && s.pausedAfter <= s.switchoverTs ? s.pausedAfter : s.switchoverTs;
    m.stream.pause = { start: s.switchoverTs, end: eofTs, min, max: eofTs - before };
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
