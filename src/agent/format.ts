import { formatSummary } from '../output/summary.js';
import type { AggregationSummary } from './aggregate.js';

/** Microseconds with nanosecond digits, e.g. "349.883". */
function us(ps: bigint): string {
  const neg = ps < 0n;
  const ns = ((neg ? -ps : ps) + 500n) / 1000n;
  return `${neg ? '-' : ''}${ns / 1000n}.${(ns % 1000n).toString().padStart(3, '0')}`;
}

/** The table of `analyze` plus the measurement points: offsets, merge and loss counters. */
export function formatAggregation(s: AggregationSummary, sources: readonly string[] = []): string {
  const lines = [formatSummary({ ...s, sources: [] }).trimEnd()];
  if (s.reference !== undefined) lines.push(`reference clock: ${s.reference}`);
  for (const o of s.offsets) {
    lines.push(`clock offset ${o.mp}: ${us(o.offset)} µs ± ${us(o.bound)} µs (spread ${us(o.spread)} µs, one-way delay ${us(o.delay)} µs, ${o.samples} samples)`);
  }
  const m = s.merge;
  lines.push(`merge: ${m.delivered} messages, ${m.duplicateMessages} seen by two MPs, ${m.duplicateRecords} records received twice, ${m.lostRecords} lost, ${m.late} late, ${m.uncorrected} uncorrected`);
  lines.push(...sources);
  return `${lines.join('\n')}\n`;
}
