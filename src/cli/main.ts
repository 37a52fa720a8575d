import { setFlagsFromString } from 'node:v8';
import { exitCodeOf, UsageError } from '../core/errors.js';
import { stdout } from '../output/stream.js';
import { commands } from './registry.js';

const USAGE = `usage: migscope <command> [options]

commands:
${Object.entries(commands)
  .map(([name, c]) => `  ${name.padEnd(10)} ${c.summary}`)
  .join('\n')}

Run 'migscope <command> --help' for a command's options.`;

/** First line of an error's message: the CLI never prints a stack trace. */
function oneLine(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  return message.split('\n')[0]!;
}

/**
 * Last resort for an error thrown outside a command's promise (an event handler, a
 * stream callback): one line and exit 1, not Node's stack trace. MIGSCOPE_DEBUG=1 keeps
 * the trace for developers.
 */
function installLastResort(name: string): void {
  if (process.env.MIGSCOPE_DEBUG) return;
  const die = (err: unknown): void => {
    process.stderr.write(`migscope${name ? ` ${name}` : ''}: internal error: ${oneLine(err)}\n`);
    process.exit(1);
  };
  process.on('uncaughtException', die);
  process.on('unhandledRejection', die);
}

/** Entry point: returns the exit status (0 ok, 1 runtime error, 2 usage error). */
export async function main(argv: string[]): Promise<number> {
  // --max-memory bounds the live per-flow state; this bounds the garbage V8 lets pile up
  // above it before a full collection (its default lets the heap reach 2–4× the live set:
  // a 2 M SYN flood peaked at 650 MB RSS for 150 MB live, 340 MB with this). Read at each
  // collection, so setting it here takes effect; it applies to worker threads too.
  setFlagsFromString('--heap-growing-percent=30');
  setFlagsFromString('--max-semi-space-size=4');
  const [name = '', ...rest] = argv;
  installLastResort(name);
  // Owns stdout's error listener from here on: a write error anywhere becomes one line.
  const out = stdout();
  try {
    if (name === '') {
      // Not asked for: usage goes with the error status, on stderr.
      process.stderr.write(`${USAGE}\n`);
      return 2;
    }
    let code = 0;
    if (name === '--help' || name === '-h' || name === 'help') out.write(`${USAGE}\n`);
    else {
      const command = commands[name];
      if (!command) throw new UsageError(`unknown command '${name}' (try 'migscope --help')`);
      code = await command.run(rest);
    }
    await out.close();
    return code;
  } catch (err) {
    process.stderr.write(`migscope${name ? ` ${name}` : ''}: ${oneLine(err)}\n`);
    return exitCodeOf(err);
  }
}
