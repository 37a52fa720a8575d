import { basename } from 'node:path';
import { UsageError } from '../core/errors.js';
import { openCapture, type CaptureFile } from '../ingest/file-source.js';
import type { CapturedPacket } from '../ingest/types.js';
import { Aggregation, type AggregationOptions, type AggregationSummary } from './aggregate.js';
import { MeasurementPoint, type MeasurementPointOptions } from './measurement-point.js';

export interface MpFilesSummary extends AggregationSummary {
  sources: { source: string; mp: string; packets: number; problem?: string }[];
}

/** MP names for files: base names, made unique with #2, #3 … */
export function mpNamesFor(paths: readonly string[]): string[] {
  const used = new Set<string>();
  return paths.map((p) => {
    const base = basename(p);
    let name = base;
    for (let i = 2; used.has(name); i++) name = `${base}#${i}`;
    used.add(name);
    return name;
  });
}

interface Cursor {
  mp: MeasurementPoint;
  file: CaptureFile;
  it: AsyncIterator<readonly CapturedPacket[]>;
  batch: readonly CapturedPacket[] | undefined;
}

/**
 * `analyze a.cap b.cap --mp-from-file`: each file is one measurement point with its own
 * clock, dissected on its own (as an agent would) and merged by the aggregator. The
 * files are read batch by batch, the one whose next packet is earliest first, so the
 * merge holds back only about one batch per MP.
 */
export async function analyzeMpFiles(paths: readonly string[], opts: AggregationOptions & MeasurementPointOptions): Promise<MpFilesSummary> {
  if (paths.length < 2) throw new UsageError('--mp-from-file needs two or more capture files (one per measurement point)');
  const names = mpNamesFor(paths);
  const agg = new Aggregation({ ...opts, expect: names, reference: opts.reference ?? names[0]! });
  if (!names.includes(opts.reference ?? names[0]!)) throw new UsageError(`--reference ${opts.reference}: not one of ${names.join(', ')}`);
  const cursors: Cursor[] = [];
  try {
    for (let i = 0; i < paths.length; i++) {
      const file = await openCapture(paths[i]!);
      const mp = new MeasurementPoint(names[i]!, (r) => agg.record(r), opts);
      cursors.push({ mp, file, it: file.batches()[Symbol.asyncIterator](), batch: undefined });
    }
    for (const c of cursors) await advance(c);
    const live = cursors.filter((c) => c.batch !== undefined);
    for (const c of cursors) if (c.batch === undefined) c.mp.finish();
    while (live.length > 0) {
      let k = 0;
      for (let j = 1; j < live.length; j++) if (live[j]!.batch![0]!.ts < live[k]!.batch![0]!.ts) k = j;
      const c = live[k]!;
      for (const pkt of c.batch!) c.mp.packet(pkt);
      c.mp.heartbeat();
      if (!(await advance(c))) {
        c.mp.finish();
        live.splice(k, 1);
      }
    }
    const summary = agg.finish();
    return {
      ...summary,
      sources: cursors.map((c) => {
        const s: MpFilesSummary['sources'][number] = { source: c.file.path, mp: c.mp.mp, packets: c.file.stats.packets };
        if (c.file.problem !== undefined) s.problem = c.file.problem;
        return s;
      }),
    };
  } finally {
    await Promise.all(cursors.map((c) => c.file.close()));
  }
}

async function advance(c: Cursor): Promise<boolean> {
  for (;;) {
    const r = await c.it.next();
    if (r.done) { c.batch = undefined; return false; }
    if (r.value.length > 0) { c.batch = r.value; return true; }
  }
}
