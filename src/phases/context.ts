import type { Picos } from '../core/time.js';
import type { MigrationEnded, PhaseEvent, Scenario } from './events.js';
import { Migration } from './migration.js';
import type { DowntimeTracker } from './downtime.js';

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
  private seq = 0;

  constructor(
    private readonly sink: (ev: PhaseEvent) => void,
    readonly roles: HostRoles,
    readonly downtime: DowntimeTracker,
    private readonly labels?: Record<string, string>,
  ) {}

  create(scenario: Scenario): Migration {
    const m = new Migration(scenario, this.sink, () => `m${++this.seq}`, this.labels);
    this.open.push(m);
    return m;
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
    const i = this.open.indexOf(m);
    if (i >= 0) this.open.splice(i, 1);
    for (const [flow, owner] of this.flowOwner) {
      if (owner !== m) continue;
      this.flowOwner.delete(flow);
      if (m.recognised) this.retiredFlows.add(flow);
    }
  }
}
