#!/usr/bin/env node
// Checks the architecture of src/ and bench/: data flows one way, so a module may import
// only from its own stage or a lower one, and no import cycle may exist between files.
// Usage: node scripts/check-imports.mjs   (exit 1 and one line per fault when broken)
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

// Stages from the bottom of the data flow to the top. Same rank: may import each other.
const STAGES = [
  ['core'],
  ['ingest'],
  ['generate'],
  ['decode'],
  ['protocols'],
  ['dissect'],
  ['phases'],
  ['pipeline'],
  ['stats'],
  ['output'],
  ['service', 'agent'],
  ['cli'],
  ['bench'],
];
const rank = new Map(STAGES.flatMap((names, i) => names.map((n) => [n, i])));

function walk(dir, out = []) {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p, out);
    else if (p.endsWith('.ts') && !p.endsWith('.d.ts')) out.push(p);
  }
  return out;
}

function stageOf(file) {
  const rel = relative(root, file).split('/');
  if (rel[0] === 'bench') return 'bench';
  return rel[1].endsWith('.ts') ? null : rel[1];
}

// Import specifiers: static imports/exports and dynamic import('…') with a literal path.
const SPEC = /(?:^|[\s;])(?:import|export)\s[^'";]*?from\s*'([^']+)'|import\(\s*'([^']+)'\s*\)/gm;

const files = [...walk(join(root, 'src')), ...walk(join(root, 'bench'))];
const known = new Set(files);
const graph = new Map();
const faults = [];
for (const file of files) {
  const text = readFileSync(file, 'utf8');
  const deps = [];
  for (const m of text.matchAll(SPEC)) {
    const spec = m[1] ?? m[2];
    if (!spec.startsWith('.')) continue;
    const target = resolve(dirname(file), spec).replace(/\.js$/, '.ts');
    if (!known.has(target)) continue;
    deps.push(target);
    const from = stageOf(file);
    const to = stageOf(target);
    if (from === null || to === null || !rank.has(from) || !rank.has(to)) {
      if (from !== null && !rank.has(from)) faults.push(`unknown stage ${from}: ${relative(root, file)}`);
      continue;
    }
    if (rank.get(to) > rank.get(from)) {
      faults.push(`upward import: ${relative(root, file)} (${from}) -> ${relative(root, target)} (${to})`);
    }
  }
  graph.set(file, deps);
}

// Tarjan's strongly connected components: any component of more than one file is a cycle.
let index = 0;
const idx = new Map();
const low = new Map();
const stack = [];
const onStack = new Set();
function strong(v) {
  idx.set(v, index); low.set(v, index); index++;
  stack.push(v); onStack.add(v);
  for (const w of graph.get(v) ?? []) {
    if (!idx.has(w)) { strong(w); low.set(v, Math.min(low.get(v), low.get(w))); }
    else if (onStack.has(w)) low.set(v, Math.min(low.get(v), idx.get(w)));
  }
  if (low.get(v) === idx.get(v)) {
    const comp = [];
    let w;
    do { w = stack.pop(); onStack.delete(w); comp.push(w); } while (w !== v);
    if (comp.length > 1) faults.push(`import cycle: ${comp.map((f) => relative(root, f)).sort().join(' <-> ')}`);
  }
}
for (const f of files) if (!idx.has(f)) strong(f);

if (faults.length > 0) {
  for (const f of faults) console.error(f);
  process.exit(1);
}
console.log(`imports ok: ${files.length} files, ${STAGES.length} stages, no upward import, no cycle`);
