#!/usr/bin/env node
// Thin launcher: the CLI is compiled from src/cli (npm run build:ts), and bundled into
// dist/cli for a faster start (scripts/bundle-cli.mjs). The bundle is run only when it
// is not older than the compiled sources (a `tsc` without the bundling step leaves it
// stale); otherwise dist/src, the same code.
import { statSync } from 'node:fs';

const mtime = (rel) => statSync(new URL(rel, import.meta.url), { throwIfNoEntry: false })?.mtimeMs ?? -1;
const bundled = mtime('../dist/cli/main.js') >= mtime('../dist/src/cli/main.js');
import(bundled ? '../dist/cli/main.js' : '../dist/src/cli/main.js')
  .then((m) => m.main(process.argv.slice(2)))
  .then((code) => { process.exitCode = code; })
  .catch((err) => {
    process.stderr.write(`migscope: ${err && err.message ? err.message : String(err)}\n`);
    process.exitCode = 1;
  });
