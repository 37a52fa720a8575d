#!/usr/bin/env node
// Thin launcher: the CLI is compiled from src/cli (npm run build:ts), and bundled into
// dist/cli for a faster start (scripts/bundle-cli.mjs); without the bundle, dist/src.
import { existsSync } from 'node:fs';

const entry = existsSync(new URL('../dist/cli/main.js', import.meta.url)) ? '../dist/cli/main.js' : '../dist/src/cli/main.js';
import(entry)
  .then((m) => m.main(process.argv.slice(2)))
  .then((code) => { process.exitCode = code; })
  .catch((err) => {
    process.stderr.write(`migscope: ${err && err.message ? err.message : String(err)}\n`);
    process.exitCode = 1;
  });
