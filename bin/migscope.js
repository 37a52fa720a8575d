#!/usr/bin/env node
// Thin launcher: the CLI is compiled from src/cli (npm run build:ts).
import('../dist/src/cli/main.js')
  .then((m) => m.main(process.argv.slice(2)))
  .then((code) => { process.exitCode = code; })
  .catch((err) => {
    process.stderr.write(`migscope: ${err && err.message ? err.message : String(err)}\n`);
    process.exitCode = 1;
  });
