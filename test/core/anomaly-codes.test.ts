import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ALL_CODES, CODE_TABLES } from '../helpers/anomaly-codes.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const doc = readFileSync(path.join(root, 'docs', 'anomalies.md'), 'utf8');

/** The code rows of docs/anomalies.md: | `CODE` | kind | `f1`, `f2` | text |. */
function documented(): Map<string, { kind: string; fields: string[]; text: string }> {
  const rows = new Map<string, { kind: string; fields: string[]; text: string }>();
  for (const line of doc.split('\n')) {
    const m = /^\| `([A-Z0-9_]+)` \| ([a-z-]+) \| ([^|]*) \| (.*) \|$/.exec(line);
    if (m === null) continue;
    expect(rows.has(m[1]!), `${m[1]} documented twice`).toBe(false);
    const fields = m[3]!.trim() === '' ? [] : m[3]!.split(',').map((f) => f.trim().replace(/`/g, ''));
    rows.set(m[1]!, { kind: m[2]!, fields, text: m[4]! });
  }
  return rows;
}

describe('anomaly codes: a stable contract', () => {
  it('are unique over all stages and spelt as SCREAMING_SNAKE_CASE', () => {
    const all = CODE_TABLES.flatMap(({ table }) => Object.values(table).map((d) => d.code));
    expect(new Set(all).size).toBe(all.length);
    for (const code of all) expect(code).toMatch(/^[A-Z][A-Z0-9]*(_[A-Z0-9]+)+$/);
    expect(ALL_CODES.size).toBe(all.length);
  });

  it('each table is documented under its source file, row for row (code, kind, fields, text)', () => {
    const rows = documented();
    expect([...rows.keys()].sort()).toEqual([...ALL_CODES.keys()].sort());
    for (const { file, table } of CODE_TABLES) {
      const section = doc.slice(doc.indexOf(`(\`${file}\`)`));
      expect(section.length, `docs/anomalies.md has no section for ${file}`).toBeLessThan(doc.length);
      for (const def of Object.values(table)) {
        expect(rows.get(def.code), def.code).toEqual({ kind: def.kind, fields: [...def.fields], text: def.text });
        // The row sits in its file's section (before the next section starts).
        const next = section.indexOf('\n### ', 1);
        expect(section.slice(0, next < 0 ? undefined : next)).toContain(`| \`${def.code}\` |`);
      }
    }
  });
});
