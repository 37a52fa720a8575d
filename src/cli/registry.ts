import type { Command } from './command.js';

/**
 * One line per subcommand. Commands are loaded lazily so `migscope generate` does not
 * pay for the capture addon and `migscope watch` not for the generator.
 */
function lazy(summary: string, load: () => Promise<{ command: Command }>): Command {
  return { summary, run: async (argv) => (await load()).command.run(argv) };
}

export const commands: Record<string, Command> = {
  analyze: lazy('phase events of the migrations in captures (table, NDJSON or msgpack)', () => import('./commands/analyze.js')),
  decode: lazy('protocol messages of captures as NDJSON, one per line', () => import('./commands/decode.js')),
  watch: lazy('live terminal view of the migrations in a capture or on an interface', () => import('./commands/watch.js')),
  demo: lazy('generate an OpenStack migration and watch it live (the first thing to try)', () => import('./commands/demo.js')),
  serve: lazy('run as a service: Prometheus metrics, live dashboard, event API, alerts', () => import('./commands/serve.js')),
  stats: lazy('per-phase statistics of a series (mean, SD, 95% CI, CoV)', () => import('./commands/stats.js')),
  report: lazy('HTML + SVG report of a series (phase shares, trends, timelines)', () => import('./commands/report.js')),
  interfaces: lazy('capture devices and their addresses (names for iface:NAME)', () => import('./commands/interfaces.js')),
  agent: lazy('measurement point: dissect captures and publish messages to NATS JetStream', () => import('./commands/agent.js')),
  generate: lazy('write a generated migration trace and its ground truth', () => import('./commands/generate.js')),
};
