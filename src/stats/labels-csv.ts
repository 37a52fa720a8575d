import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { UsageError } from '../core/errors.js';
import type { MigrationRecord } from './record.js';

/**
 * `--labels FILE.csv`: factor levels assigned after the fact, for captures analysed
 * without `--label`. Header row names the columns; `file` (a path or base name) and/or
 * `migration` (alias `id`) select migrations, every other column is a label:
 *
 *   file,migration,flavor,load
 *   run-01.ndjson,m1,1,0
 *   run-02.ndjson,,1,25        ← every migration of that file
 *
 * The most specific row wins (file+migration, then file, then migration); CSV labels
 * override labels carried by the events.
 */
export class LabelTable {
  private readonly rows = new Map<string, Record<string, string>>();

  constructor(readonly labelNames: readonly string[]) {}

  set(file: string, migration: string, labels: Record<string, string>): void {
    this.rows.set(`${file}\u0000${migration}`, labels);
  }

  lookup(origin: string, id: string): Record<string, string> | undefined {
    const base = basename(origin);
    for (const [f, m] of [[origin, id], [base, id], [origin, ''], [base, ''], ['', id]] as const) {
      const hit = this.rows.get(`${f}\u0000${m}`);
      if (hit) return hit;
    }
    return undefined;
  }

  apply(record: MigrationRecord): void {
    const labels = this.lookup(record.origin, record.id);
    if (labels) record.labels = { ...record.labels, ...labels };
  }
}

/** RFC 4180 fields: commas, double quotes with "" escapes, CRLF or LF line ends. */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') { field += '"'; i++; }
      else if (ch === '"') quoted = false;
      else field += ch;
    } else if (ch === '"' && field === '') quoted = true;
    else if (ch === ',') { row.push(field); field = ''; }
    else if (ch === '\n' || ch === '\r') {
      if (ch === '\r' && text[i + 1] === '\n') i++;
      row.push(field); field = '';
      if (row.some((f) => f !== '')) rows.push(row);
      row = [];
    } else field += ch;
  }
  row.push(field);
  if (row.some((f) => f !== '')) rows.push(row);
  return rows;
}

export function labelTableFromCsv(text: string, source = 'labels CSV'): LabelTable {
  const [header, ...body] = parseCsv(text);
  if (!header) throw new UsageError(`${source}: empty`);
  const names = header.map((h) => h.trim());
  const fileCol = names.indexOf('file');
  const idCol = names.indexOf('migration') >= 0 ? names.indexOf('migration') : names.indexOf('id');
  if (fileCol < 0 && idCol < 0) {
    throw new UsageError(`${source}: needs a 'file' or 'migration' column (header: ${names.join(',')})`);
  }
  const labelCols = names.map((n, i) => ({ n, i })).filter(({ i }) => i !== fileCol && i !== idCol && names[i] !== '');
  const table = new LabelTable(labelCols.map(({ n }) => n));
  for (const row of body) {
    const labels: Record<string, string> = {};
    for (const { n, i } of labelCols) {
      const v = row[i]?.trim();
      if (v !== undefined && v !== '') labels[n] = v;
    }
    table.set(fileCol >= 0 ? (row[fileCol]?.trim() ?? '') : '', idCol >= 0 ? (row[idCol]?.trim() ?? '') : '', labels);
  }
  return table;
}

export async function readLabelTable(path: string): Promise<LabelTable> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new UsageError(`cannot read labels file ${path}: ${(err as Error).message}`);
  }
  return labelTableFromCsv(text, path);
}
