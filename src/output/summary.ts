import { formatIso, PS_PER_US, type Picos } from '../core/time.js';
import { PHASE_TITLES, PHASES, type MigrationEnded } from '../phases/events.js';
import type { MigrationRecord } from '../phases/engine.js';
import type { Summary } from '../pipeline/analyze.js';

/** Seconds with microsecond precision (rounded half up), e.g. "0.591900". */
export function secondsUs(d: Picos): string {
  const neg = d < 0n;
  const us = ((neg ? -d : d) + PS_PER_US / 2n) / PS_PER_US;
  return `${neg ? '-' : ''}${us / 1_000_000n}.${(us % 1_000_000n).toString().padStart(6, '0')}`;
}

function millisUs(d: Picos): string {
  const us = (d + PS_PER_US / 2n) / PS_PER_US;
  return `${us / 1000n}.${(us % 1000n).toString().padStart(3, '0')}`;
}

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length)));
  return rows
    .map((r) => r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join('  ').trimEnd())
    .join('\n');
}

/** One migration as the study's Table 5.1: phase, start offset, duration (s, µs). */
export function formatMigration(rec: MigrationRecord): string {
  const ev: MigrationEnded = rec.ended;
  const origin = Object.values(ev.phases).reduce<Picos | undefined>(
    (min, p) => (p && (min === undefined || p.start < min) ? p.start : min), undefined);
  const head = `${rec.id}  ${rec.scenario}  ${rec.source} → ${rec.destination}`
    + `${rec.domain ? `  ${rec.domain}` : ''}  outcome: ${ev.outcome}${ev.reason ? ` (${ev.reason})` : ''}`;
  const rows: string[][] = [['Phase', 'Start (s)', 'Duration (s)', '']];
  const notes: string[] = [];
  for (const name of PHASES) {
    const p = ev.phases[name];
    if (!p) continue;
    let mark = '';
    if (p.uncertain) {
      notes.push(`${PHASE_TITLES[name]}: ${p.uncertain}`);
      mark = `*${notes.length}`;
    }
    if (p.clockError !== undefined) {
      notes.push(`${PHASE_TITLES[name]}: start and end markers from two measurement points, ± ${secondsUs(p.clockError)} s (clock offset)`);
      mark += `*${notes.length}`;
    }
    rows.push([PHASE_TITLES[name], secondsUs(p.start - origin!), secondsUs(p.end - p.start), mark]);
  }
  if (ev.libvirtTotal !== undefined) rows.push(['Migration time (libvirt)', '', secondsUs(ev.libvirtTotal), '']);
  if (ev.total !== undefined) rows.push(['Total migration time', '', secondsUs(ev.total), '']);
  const lines = [head];
  if (origin !== undefined) lines.push(`  started ${formatIso(origin)}`);
  lines.push(table(rows).split('\n').map((l) => `  ${l}`).join('\n'));
  const extra: string[] = [];
  if (ev.downtime !== undefined) {
    extra.push(`downtime ${millisUs(ev.downtime)} ms${rec.lostPings !== undefined ? ` (${rec.lostPings} echo requests lost)` : ''}`);
  }
  if (ev.stream) {
    const s = ev.stream;
    if (s.payloadCutBytes !== undefined) {
      extra.push(`stream ${s.bytes} B (${s.payloadCutBytes} B of payload cut by the capture: passes and switch-over unknown)`);
    } else {
      extra.push(`iterations ${s.iterations}`, `stream ${s.bytes} B (pre-copy ${s.precopyBytes} B, stop-and-copy ${s.stopCopyBytes} B)`);
    }
  }
  if (extra.length > 0) lines.push(`  ${extra.join(', ')}`);
  notes.forEach((n, i) => lines.push(`  *${i + 1} ${n.includes('(clock offset)') ? '' : 'uncertain: '}${n}`));
  return lines.join('\n');
}

/** The default human output of `analyze`. */
export function formatSummary(summary: Summary): string {
  const out: string[] = [];
  if (summary.migrations.length === 0) out.push('no migration found');
  for (const m of summary.migrations) out.push(formatMigration(m), '');
  const anomalies = Object.entries(summary.anomalies).filter(([, n]) => (n ?? 0) > 0);
  if (anomalies.length > 0) {
    out.push(`anomalies: ${anomalies.map(([k, n]) => `${k} ${n}`).join(', ')}`);
    out.push(`  by code: ${Object.entries(summary.anomalyCodes).map(([c, n]) => `${c} ${n}`).join(', ')}`);
  }
  const cut = summary.dissector?.tcp.cutBytes ?? 0;
  if (cut > 0) out.push(`payload cut by the capture's snaplen: ${cut} TCP bytes (phases whose marker header was captured are exact)`);
  for (const s of summary.sources) {
    const st = s.stats;
    out.push(`source ${s.source} (${s.format})${st ? `: ${st.packets} packets, ${st.malformedRecords} malformed records${st.truncated ? ', truncated' : ''}` : ''}${s.ring ? `: ${s.ring.packets} packets via ${s.ring.path === 'af-packet' ? 'AF_PACKET rings (zero copy)' : 'the native ring'}, ${s.ring.ringDrops} ring drops, ${s.ring.kernelDrops} kernel drops` : ''}${s.problem ? ` — ${s.problem}` : ''}`);
  }
  return `${out.join('\n').replace(/\n+$/, '')}\n`;
}
