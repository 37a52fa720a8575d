import type { Command } from './command.js';

/**
 * One line per subcommand. Commands are loaded lazily so `migscope generate` does not
 * pay for the capture addon and `migscope watch` not for the generator.
 */
function lazy(summary: string, load: () => Promise<{ command: Command }>): Command {
  return { summary, run: async (argv) => (await load()).command.run(argv) };
}

export const commands: Record<string, Command> = {
  stats: lazy('per-phase statistics of a series (mean, SD, 95% CI, CoV)', () => import('./commands/stats.js')),
};
