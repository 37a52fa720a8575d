import { appendixATable, type AppendixATable, type ReferencePhase, type ReferenceStat } from '../study-reference.js';
import type { Rng } from '../rng.js';

/** Seconds (floats only here, while drawing; everything downstream is bigint ps). */
export interface DrawnTiming {
  authentication: number;
  initialization: number;
  remoteConnect: number;
  preparation: number;
  transfer: number;
  finish: number;
  cleanup: number;
  postMigration: number;
  downtime: number;
  /** Idle time between phases (Appendix B: phases do not add up to the total). */
  gapAuthInit: number;
  gapInitLibvirt: number;
  gapConnectPrepare: number;
  gapPrepareTransfer: number;
  gapTransferFinish: number;
  gapLibvirtPost: number;
  /** The Appendix A tables the draw came from. */
  tables: string[];
}

export type PhaseOverrides = Partial<Record<ReferencePhase | 'downtime', number>>;

/** Mean/SD interpolated linearly between the two Appendix A load levels around `load`. */
function stat(flavor: number, load: number, key: keyof AppendixATable): ReferenceStat & { tables: string[] } {
  const lo = Math.min(75, Math.floor(load / 25) * 25);
  const a = appendixATable(flavor, lo);
  const b = appendixATable(flavor, lo + 25);
  const w = (load - lo) / 25;
  const sa = a[key] as ReferenceStat;
  const sb = b[key] as ReferenceStat;
  const tables = w === 0 ? [a.table] : w === 1 ? [b.table] : [a.table, b.table];
  return { mean: sa.mean + (sb.mean - sa.mean) * w, sd: sa.sd + (sb.sd - sa.sd) * w, ci95: 0, covPercent: 0, tables };
}

/** Floors that keep the protocol exchanges inside each phase physically possible. */
const FLOOR: Record<ReferencePhase, number> = {
  authentication: 0.01, initialization: 0.4, remoteConnect: 0.002, preparation: 0.02, transfer: 0.2,
  finish: 0.02, cleanup: 0.01, postMigration: 0.02,
};

/**
 * Phase durations drawn from Normal(mean, SD) of the flavor×load table, truncated to a
 * floor (redrawn below it), unless overridden. Transfer is the table's (1 Gbit/s) value
 * with its data-bound part divided by the link speed: the same RAM crosses a faster
 * link sooner. Gaps share out what the table's totals leave beyond the phase means.
 */
export function drawTiming(rng: Rng, flavor: number, load: number, linkGbps: number, overrides: PhaseOverrides = {}): DrawnTiming {
  const tables = new Set<string>();
  const draw = (p: ReferencePhase): number => {
    if (overrides[p] !== undefined) return overrides[p]!;
    const s = stat(flavor, load, p);
    s.tables.forEach((t) => tables.add(t));
    return rng.truncatedNormal(s.mean, s.sd, FLOOR[p]);
  };
  const mean = (k: keyof AppendixATable): number => stat(flavor, load, k).mean;
  const authentication = draw('authentication');
  const initialization = draw('initialization');
  const remoteConnect = draw('remoteConnect');
  const preparation = draw('preparation');
  const transfer1G = draw('transfer');
  const finish = draw('finish');
  const cleanup = draw('cleanup');
  const postMigration = draw('postMigration');
  const fixedTransfer = 0.15;
  const transfer = overrides.transfer ?? fixedTransfer + Math.max(0.05, transfer1G - fixedTransfer) / linkGbps;
  const dt = stat(flavor, load, 'downtimeMs');
  const downtime = overrides.downtime ?? rng.truncatedNormal(dt.mean, dt.sd, 6) / 1000;

  const libvirtPhases = ['remoteConnect', 'preparation', 'transfer', 'finish', 'cleanup'] as const;
  const libvirtGap = Math.max(0.012, mean('libvirtTotal') - libvirtPhases.reduce((a, p) => a + mean(p), 0));
  const outerGap = Math.max(0.012, mean('total') - mean('libvirtTotal') - mean('authentication') - mean('initialization') - mean('postMigration'));
  const jitter = (): number => rng.between(0.8, 1.2);
  return {
    authentication, initialization, remoteConnect, preparation, transfer, finish, cleanup, postMigration, downtime,
    gapAuthInit: outerGap * 0.3 * jitter(),
    gapInitLibvirt: outerGap * 0.35 * jitter(),
    gapLibvirtPost: outerGap * 0.35 * jitter(),
    gapConnectPrepare: Math.max(0.006, libvirtGap * 0.5 * jitter()),
    gapPrepareTransfer: Math.max(0.003, libvirtGap * 0.45 * jitter()),
    // The VM is already paused here: the gap is part of the downtime, so it stays short.
    gapTransferFinish: Math.min(libvirtGap * 0.05, downtime * 0.2),
    tables: [...tables],
  };
}
