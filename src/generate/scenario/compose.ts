import type { Picos } from '../../core/time.js';
import type { CaptureWriter } from '../../ingest/types.js';
import { Rng } from '../rng.js';
import { mergeSources, type PacketSource, sourceOf } from '../source.js';
import type { GenerateOptions, MigrationTruth, PhaseName, PhaseSpan } from '../types.js';
import { host } from '../wire/ethernet-ip.js';
import { pingFlow, type PingStats } from '../wire/icmp.js';
import { rarpAnnouncements } from '../wire/rarp.js';
import type { GuestSpec } from './domain.js';
import { libvirtMigration, type LibvirtMigrationPlan } from './libvirt-p2p.js';
import { AmqpSession, novaFrontEnd, novaPostMigration, novaRollback } from './openstack.js';
import { drawTiming, type DrawnTiming } from './timing.js';
import { at, makeWorld } from './world.js';

export const FLAVORS = {
  1: { name: 'm1.small', vcpus: 1, ramGiB: 2 },
  2: { name: 'm1.medium', vcpus: 2, ramGiB: 4 },
  3: { name: 'm1.large', vcpus: 4, ramGiB: 8 },
  4: { name: 'm1.xlarge', vcpus: 8, ramGiB: 16 },
} as const;

interface Planned {
  id: string;
  guest: GuestSpec;
  timing: DrawnTiming;
  lv: LibvirtMigrationPlan;
  ping: PingStats;
  end: Picos;
}

export interface WriteResult {
  migrations: MigrationTruth[];
  packets: number;
  bytes: number;
}

/**
 * Plans every migration up front (control traffic is small), then streams the merged
 * packet flows into the writer in timestamp order and derives the truth from the
 * marker packets as written.
 */
export function composeAndWrite(opts: GenerateOptions, writer: CaptureWriter): WriteResult {
  const rng = new Rng(opts.seed);
  const w = makeWorld(rng, writer.resolution, opts.linkGbps);
  const flavor = FLAVORS[opts.flavor as 1 | 2 | 3 | 4];
  const t0: Picos = opts.startTime ?? 1_795_000_000n * 1_000_000_000_000n;
  const openstack = opts.scenario === 'openstack';
  const amqpS = openstack ? new AmqpSession(w, t0) : undefined;
  const sources: PacketSource[] = [];
  const planned: Planned[] = [];
  let next = at(t0, 0.3);
  let lastEnd = next;
  for (let k = 0; k < opts.runs; k++) {
    const id = `m${k + 1}`;
    const timing = drawTiming(rng, opts.flavor, opts.load, opts.linkGbps, opts.overrides);
    const guest: GuestSpec = {
      name: `instance-${(k + 1).toString(16).padStart(8, '0')}`, uuid: rng.uuid(), vcpus: flavor.vcpus,
      ramBytes: flavor.ramGiB * 2 ** 30, mac: `52:54:00:00:01:${(k + 1).toString(16).padStart(2, '0').slice(-2)}`,
      ip: `10.10.1.${10 + (k % 240)}`,
    };
    const ctx = { requestId: `req-${rng.uuid()}`, userId: rng.hex32(), projectId: rng.hex32(), timestamp: '2026-11-25T11:00:00.000000' };
    const start = next;
    let lvStart = start;
    if (openstack) {
      const fe = novaFrontEnd(w, id, guest, ctx, amqpS!, { start, authentication: timing.authentication, gapAuthInit: timing.gapAuthInit, initialization: timing.initialization });
      sources.push(...fe.sources);
      lvStart = at(fe.initEnd, timing.gapInitLibvirt);
    }
    const streamPort = 49152 + (opts.overlap ? k % 64 : 0);
    const lv = libvirtMigration(w, id, guest, timing, lvStart, opts.outcome, streamPort, opts.linkGbps, opts.load, opts.payloadScale, opts.dirtyRatio);
    sources.push(...lv.sources);
    let end = lv.end;
    if (openstack) {
      if (opts.outcome === 'completed') end = novaPostMigration(w, id, guest, ctx, amqpS!, at(lv.end, timing.gapLibvirtPost), timing.postMigration);
      else novaRollback(w, guest, ctx, amqpS!, (end = at(lv.end, timing.gapLibvirtPost)));
    }
    const vm = host(guest.ip, guest.mac);
    const ping: PingStats = { requests: 0, replies: 0, lastReplyBeforePause: undefined, firstReplyAfterResume: undefined, lost: 0 };
    sources.push(sourceOf(pingFlow({
      client: w.pingClient, vm, ident: 0x4d00 + k, start: at(start, -0.2), end: at(end, 0.2), interval: 1_000_000_000n,
      replyDelayBefore: 120_000_000n, replyDelayAfter: 260_000_000n, pauseAt: lv.pauseAt, resumeAt: lv.resumeAt,
      resolution: w.resolution, resumeMarker: `${id}:resume-reply`,
    }, ping)));
    if (lv.resumeAt !== undefined) sources.push(sourceOf(rarpAnnouncements(vm.macBytes, at(lv.resumeAt, 0.0002), w.resolution, `${id}:rarp`)));
    planned.push({ id, guest, timing, lv, ping, end });
    lastEnd = end > lastEnd ? end : lastEnd;
    next = opts.overlap ? at(start, Math.max(0.5, Number(end - start) / 1e12 * 0.3)) : at(end, 1.0);
  }
  if (amqpS) sources.unshift(amqpS.source(at(lastEnd, 0.5)));

  // Stream everything out.
  const marks = new Map<string, Picos>();
  const lose = opts.lose ? `m1:${opts.lose}` : undefined;
  let lost: { marker: string; ts: Picos } | undefined;
  let packets = 0;
  let bytes = 0;
  for (const pkt of mergeSources(sources)) {
    let drop = false;
    if (pkt.markers) {
      for (const mk of pkt.markers) {
        if (!marks.has(mk)) marks.set(mk, pkt.ts);
        if (mk === lose && !lost) {
          lost = { marker: opts.lose!, ts: pkt.ts };
          drop = true;
        }
      }
    }
    if (drop) continue;
    writer.write(pkt.ts, pkt.frame);
    packets++;
    bytes += pkt.frame.length;
  }
  return { migrations: planned.map((p) => truthOf(opts, w.controller.ip, w.source.ip, w.destination.ip, p, marks, lost)), packets, bytes };
}

function truthOf(
  opts: GenerateOptions, controller: string, source: string, destination: string, p: Planned, marks: Map<string, Picos>,
  lost: { marker: string; ts: Picos } | undefined,
): MigrationTruth {
  const mk = (name: string): Picos | undefined => marks.get(`${p.id}:${name}`);
  const phases: Partial<Record<PhaseName, PhaseSpan>> = {};
  const span = (name: PhaseName, a: string, b: string): void => {
    const s = mk(a);
    const e = mk(b);
    if (s !== undefined && e !== undefined) phases[name] = { start: s, end: e };
  };
  const openstack = opts.scenario === 'openstack';
  if (openstack) {
    span('authentication', 'auth-request', 'auth-response');
    span('initialization', 'servers-get', 'pre-live-reply');
    span('post-migration', 'post-call', 'post-reply');
  }
  span('remote-connect', 'connect-syn', 'open-reply');
  span('preparation', 'prepare-call', 'prepare-reply');
  span('transfer', 'transfer-syn', 'transfer-fin');
  span('finish', 'finish-call', 'finish-reply');
  span('cleanup', opts.outcome === 'failed-prepare' ? 'prepare-reply' : 'finish-reply', 'cleanup-fin');
  const markers: Record<string, Picos> = {};
  for (const [k, v] of marks) if (k.startsWith(`${p.id}:`)) markers[k.slice(p.id.length + 1)] = v;
  const lvStart = mk('connect-syn');
  const lvEnd = mk('cleanup-fin');
  const starts = Object.values(phases).map((s) => s.start);
  const ends = Object.values(phases).map((s) => s.end);
  const first = starts.reduce<Picos | undefined>((a, b) => (a === undefined || b < a ? b : a), undefined);
  const last = ends.reduce<Picos | undefined>((a, b) => (a === undefined || b > a ? b : a), undefined);
  const ss = p.lv.streamStats;
  const t: MigrationTruth = {
    id: p.id, scenario: opts.scenario, outcome: opts.outcome, source, destination,
    ...(openstack ? { controller } : {}),
    domain: p.guest.name, domainUuid: p.guest.uuid, vmIp: p.guest.ip,
    factors: { flavor: opts.flavor, load: opts.load, linkGbps: opts.linkGbps, payloadScale: opts.payloadScale },
    reference: p.timing.tables, phases,
    ...(first !== undefined && last !== undefined ? { total: last - first } : {}),
    ...(lvStart !== undefined && lvEnd !== undefined ? { libvirtTotal: lvEnd - lvStart } : {}),
    lostPings: 0,
    iterations: ss.passBytes.length, passBytes: ss.passBytes, precopyBytes: ss.precopyBytes, stopCopyBytes: ss.stopCopyBytes,
    streamBytes: p.lv.streamPayload.bytes,
    ...(p.lv.migrateUri ? { migrateUri: p.lv.migrateUri } : {}),
    connections: { libvirt: p.lv.libvirtConn, ...(p.lv.streamConn ? { stream: p.lv.streamConn } : {}) },
    markers,
  };
  const ping = p.ping;
  if (ping.lastReplyBeforePause !== undefined && ping.firstReplyAfterResume !== undefined) {
    t.downtime = ping.firstReplyAfterResume - ping.lastReplyBeforePause;
    t.lostPings = ping.lost;
  }
  if (p.lv.pauseAt !== undefined && markers['stopcopy'] !== undefined) t.pausedAt = markers['stopcopy'];
  if (markers['rarp'] !== undefined) t.resumedAt = markers['rarp'];
  if (p.lv.model) t.dirtyRatio = p.lv.model.dirtyRatio;
  if (lost && p.id === 'm1') t.lost = lost;
  return t;
}
