import type { SeriesSummary } from './series.js';
import { phaseShares } from './shares.js';

/** The summary plus phase shares; undefined statistics (NaN) become null. */
export function seriesJson(series: SeriesSummary): string {
  const doc = {
    ...series,
    groups: series.groups.map((g) => ({ ...g, shares: phaseShares(g) })),
  };
  return `${JSON.stringify(doc, (_k, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? null : v), 2)}\n`;
}
