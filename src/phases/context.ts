import type { Picos } from '../core/time.js';
import type { MigrationEnded, PhaseEvent, Scenario } from './events.js';
import { FifoQueue } from './fifo.js';
import { Migration } from './migration.js';
import type { DowntimeTracker } from './downtime.js';
import type { AnomalyDef } from '../core/anomaly.js';

/** Unrecognised libvirt connections remembered at once (a SYN flood to 16509 makes one each). */
export const MAX_CANDIDATES = 16_384;

/**
 * Host roles given on the command line: `--hosts A,B[,controller=C]` (a set of
 * hypervisors: which one is the source is found per migration, so a back-and-forth
 * series is live both ways), or fixed `source=IP,destination=IP`.
 */
export interface HostRoles {
  source?: string;
  destination?: string;
  controller?: string;
  /** Hypervisor addresses (source and destination, if given, are in it too). */
  hypervisors?: readonly string[];
}

/** Is `client → server` a migration between hosts the user named as hypervisors? */
export function namedPair(roles: HostRoles, client: string, server: string): boolean {
  if (roles.source !== undefined && roles.destination !== undefined) return roles.source === client && roles.destination === server;
  const h = roles.hypervisors;
  return h !== undefined && client !== server && h.includes(client) && h.includes(server);
}

/** The other hypervisor of a named pair (the destination of a migration from `host`). */
export function peerHypervisor(roles: HostRoles, host: string): string | undefined {
  if (roles.source === host && roles.destination !== undefined) return roles.destination;
  const h = roles.hypervisors;
  if (h === undefined || h.length !== 2 || !h.includes(host)) return undefined;
  return h[0] === host ? h[1] : h[0];
}

/** What a finished (or abandoned) migration looks like in the run summary. */
export interface MigrationRecord {
  id: string;
  scenario: Scenario;
  source: string;
  destination: string;
  domain?: string;
  domainUuid?: string;
  ended: MigrationEnded;
  lostPings?: number;
}

/**
 * State shared by the trackers (libvirt/QEMU, OpenStack, downtime): the open
 * migrations, who owns which flow, and how a migration is announced and closed.
 */
export class EngineContext {
  readonly open: Migration[] = [];
  readonly done: MigrationRecord[] = [];
  /** Flow id → migration (its libvirt and QEMU stream connections). */
  readonly flowOwner = new Map<number, Migration>();
  /** Directed host pairs (src>dst) that carried a migration: their next libvirt
   *  connection is recognised at its SYN, so its events are live. */
  readonly knownPairs = new Set<string>();
  /** Flows of closed migrations: their late packets must not start a new one. */
  readonly retiredFlows = new Set<number>();
  /**
   * libvirt connections not (yet) recognised as migrations, by flow id, oldest first.
   * Kept out of `open` so the per-SYN work stays O(1): a SYN flood to 16509 makes one
   * candidate per SYN, and every lookup in `open` would walk them all. Bounded: past
   * MAX_CANDIDATES the oldest is forgotten (counted as memory-shed).
   */
  readonly candidates = new Map<number, Migration>();
  /** Candidates oldest first; entries no longer in `candidates` are skipped when met. */
  private readonly candidateOrder = new FifoQueue<Migration>();
  /** Candidates by "source>destination", for a QEMU stream whose prepare3 was lost. */
  private readonly candidatesByPair = new Map<string, Set<Migration>>();
  /** Candidates per source host (libvirtMayOwn). */
  private readonly candidateSources = new Map<string, number>();
  /** Counts state dropped to stay within bounds (the engine makes it a memory-shed anomaly). */
  shed: (def: AnomalyDef, ts: Picos) => void = () => {};
  private seq = 0;

  constructor(
    private readonly sink: (ev: PhaseEvent) => void,
    readonly roles: HostRoles,
    readonly downtime: DowntimeTracker,
    private readonly labels?: Record<string, string>,
  ) {}

  create(scenario: Scenario, candidate = false): Migration {
    const m = new Migration(scenario, this.sink, () => `m${++this.seq}`, this.labels);
    if (!candidate) this.open.push(m);
    return m;
  }

  /**
   * A libvirt connection that may turn out to be a migration. Returns the candidate it
   * displaced when the bound was reached (its state is dropped), else undefined.
   */
  addCandidate(m: Migration, flowId: number): Migration | undefined {
    let shed: Migration | undefined;
    if (this.candidates.size >= MAX_CANDIDATES) {
      let old = this.candidateOrder.shift();
      while (old !== undefined && this.candidates.get(old.libvirtFlow!) !== old) old = this.candidateOrder.shift();
      if (old !== undefined) {
        const oldFlow = old.libvirtFlow!;
        this.dropCandidate(oldFlow, old);
        if (this.flowOwner.get(oldFlow) === old) this.flowOwner.delete(oldFlow);
        shed = old;
      }
    }
    this.candidates.set(flowId, m);
    this.candidateOrder.push(m);
    if (this.candidateOrder.length > 2 * this.candidates.size + 1024) {
      // Mostly promoted or discarded entries: rebuild from the live ones, oldest first.
      this.candidateOrder.clear();
      for (const c of this.candidates.values()) this.candidateOrder.push(c);
    }
    const pair = `${m.source}>${m.destination}`;
    let set = this.candidatesByPair.get(pair);
    if (set === undefined) this.candidatesByPair.set(pair, set = new Set());
    set.add(m);
    this.candidateSources.set(m.source!, (this.candidateSources.get(m.source!) ?? 0) + 1);
    return shed;
  }

  /** A candidate was recognised as a migration: it joins `open`. */
  promote(m: Migration): void {
    if (m.libvirtFlow === undefined || this.candidates.get(m.libvirtFlow) !== m) return;
    this.dropCandidate(m.libvirtFlow, m);
    this.open.push(m);
  }

  /** An unrecognised libvirt connection from `source` to `destination` without a stream yet. */
  candidateFor(source: string, destination: string): Migration | undefined {
    const set = this.candidatesByPair.get(`${source}>${destination}`);
    if (set === undefined) return undefined;
    for (const m of set) if (m.streamFlow === undefined) return m;
    return undefined;
  }

  hasCandidateFrom(source: string): boolean {
    return this.candidateSources.has(source);
  }

  private dropCandidate(flowId: number, m: Migration): void {
    this.candidates.delete(flowId);
    const pair = `${m.source}>${m.destination}`;
    const set = this.candidatesByPair.get(pair);
    if (set !== undefined) { set.delete(m); if (set.size === 0) this.candidatesByPair.delete(pair); }
    const n = (this.candidateSources.get(m.source!) ?? 1) - 1;
    if (n > 0) this.candidateSources.set(m.source!, n); else this.candidateSources.delete(m.source!);
  }

  /** Announces `m` as soon as it is recognised and its hosts are known. */
  tryAnnounce(m: Migration): void {
    if (!m.announced && m.canAnnounce()) m.announce();
  }

  /** Forgets a libvirt connection that never turned out to be a migration. */
  discard(m: Migration): void {
    this.remove(m);
  }

  /** Closes `m` once everything its scenario waits for has happened. */
  settle(m: Migration, ts: Picos): void {
    const libvirtOver = m.libvirtDone || m.libvirtFlow === undefined;
    if (m.scenario === 'kvm') {
      if (m.libvirtDone) this.close(m, ts);
    } else if (libvirtOver && (m.ended('post-migration') || (m.outcome !== undefined && m.rollbackSeen))) {
      this.close(m, ts);
    }
  }

  close(m: Migration, ts: Picos, incompleteReason?: string): void {
    if (m.closed) return;
    this.downtime.settle(m);
    const ended = m.finish(ts, incompleteReason);
    if (m.source !== undefined && m.destination !== undefined && ended.outcome === 'completed') {
      this.knownPairs.add(`${m.source}>${m.destination}`);
    }
    const rec: MigrationRecord = {
      id: m.id, scenario: m.scenario, source: m.source ?? '', destination: m.destination ?? '', ended,
    };
    if (m.domain !== undefined) rec.domain = m.domain;
    if (m.domainUuid ?? m.instanceUuid) rec.domainUuid = (m.domainUuid ?? m.instanceUuid)!;
    if (m.lostPings !== undefined) rec.lostPings = m.lostPings;
    this.done.push(rec);
    this.remove(m);
  }

  private remove(m: Migration): void {
    if (m.libvirtFlow !== undefined && this.candidates.get(m.libvirtFlow) === m) this.dropCandidate(m.libvirtFlow, m);
    else {
      const i = this.open.indexOf(m);
      if (i >= 0) this.open.splice(i, 1);
    }
    // A migration owns at most its libvirt connection and its stream.
    for (const flow of [m.libvirtFlow, m.streamFlow]) {
      if (flow === undefined || this.flowOwner.get(flow) !== m) continue;
      this.flowOwner.delete(flow);
      if (m.recognised) this.retiredFlows.add(flow);
    }
  }
}
