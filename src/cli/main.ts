import { setFlagsFromString } from 'node:v8';
import { exitCodeOf, UsageError } from '../core/errors.js';
import { commands } from './registry.js';

const USAGE = `usage: migscope <command> [options]

commands:
${Object.entries(commands)
  .map(([name, c]) => `  ${name.padEnd(10)} ${c.summary}`)
  .join('\n')}

Run 'migscope <command> --help' for a command's options.`;

/** Entry point: returns the exit status (0 ok, 1 runtime error, 2 usage error). */
export async function main(argv: string[]): Promise<number> {
  // --max-memory bounds the live per-flow state; this bounds the garbage V8 lets pile up
  // above it before a full collection (its default lets the heap reach 2–4× the live set:
  // a 2 M SYN flood peaked at 650 MB RSS for 150 MB live, 340 MB with this). Read at each
  // collection, so setting it here takes effect; it applies to worker threads too.
  setFlagsFromString('--heap-growing-percent=30');
  // `migscope decode F | head`: the reader went away; stop quietly like a Unix filter
  // instead of dying on an unhandled EPIPE.
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(0);
    throw err;
  });
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(`${USAGE}\n`);
    return name === undefined ? 2 : 0;
  }
  const command = commands[name];
  try {
    if (!command) throw new UsageError(`unknown command '${name}' (try 'migscope --help')`);
    return await command.run(rest);
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    process.stderr.write(`migscope ${name}: ${message.split('\n')[0]}\n`);
    return exitCodeOf(err);
  }
}
