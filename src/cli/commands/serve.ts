import { readFileSync } from 'node:fs';
import { UsageError } from '../../core/errors.js';
import { checkBind, DEFAULT_LISTEN, isLoopback, parseListen } from '../../service/auth.js';
import { packageVersion } from '../../service/package-root.js';
import { Service } from '../../service/service.js';
import { demoItems, natsItems, pipelineItems } from '../../service/sources.js';
import { numberOption, parseCommandArgs, type Command } from '../command.js';
import { captureOptions, parseHosts, parseLabels, SOURCE_HELP, sourceOptions } from './analysis-options.js';
import { checkMpOptions, mpOptionSpecs, SERVE_MP_HELP, subscribeOptions } from './analyze-mp.js';

const USAGE = 'migscope serve SOURCE…|--demo|--subscribe nats://HOST:4222 [--listen HOST:PORT] [--token-file F|--token T|--insecure] [--realtime] [--speed X] [--stall-after S] [--downtime-limit MS]';
const HELP = `usage: ${USAGE}

Runs as a service: keeps analysing the SOURCEs and serves, on ${DEFAULT_LISTEN} by default,
  GET /                 live dashboard (phase timelines, pre-copy passes, switch-over, downtime)
  GET /metrics          Prometheus metrics (docs/metrics.md)
  GET /api/migrations   running and recent migrations (JSON)
  GET /api/events       the event stream as NDJSON, live; ?since=SEQ resumes after SEQ
Files are read as fast as possible (or paced with --realtime), then their results stay
served; SIGTERM or SIGINT stops the service cleanly.
  --listen HOST:PORT    bind address (default ${DEFAULT_LISTEN}); an address other than
                        loopback needs --token/--token-file or --insecure
  --token-file F        bearer token (first line of F, at least 16 characters): every request must carry
                        'Authorization: Bearer TOKEN' (or ?access_token=TOKEN)
  --token T             the same, on the command line (visible in ps: prefer the file)
  --insecure            serve a non-loopback address without a token
  --demo                replay generated migrations in real time, in a loop (no SOURCE)
  --subscribe URL       no SOURCE: serve what \`migscope agent\`s publish to NATS, through
                        the aggregator (clock offsets as metrics and at /api/measurement-points)
  --realtime            replay files at wire speed; --speed X: X times faster
  --stall-after S       'stalled' alert after S s without progress (default 30)
${SOURCE_HELP}
${SERVE_MP_HELP}`;

export const command: Command = {
  summary: 'run as a service: Prometheus metrics, live dashboard, event API, alerts',
  async run(argv) {
    const { values, positionals } = parseCommandArgs(argv, {
      ...sourceOptions,
      listen: { type: 'string' },
      token: { type: 'string' },
      'token-file': { type: 'string' },
      insecure: { type: 'boolean' },
      demo: { type: 'boolean' },
      realtime: { type: 'boolean' },
      speed: { type: 'string' },
      'stall-after': { type: 'string' },
      ...mpOptionSpecs,
    });
    if (values.help) {
      process.stdout.write(`${HELP}\n`);
      return 0;
    }
    const subscribe = values.subscribe;
    if (values.demo && positionals.length > 0) throw new UsageError('--demo takes no SOURCE');
    if (subscribe !== undefined && (positionals.length > 0 || values.demo)) throw new UsageError('--subscribe takes no SOURCE and no --demo (the MPs publish theirs)');
    if (!values.demo && subscribe === undefined && positionals.length === 0) throw new UsageError(`no SOURCE given (usage: ${USAGE})`);
    if (values['mp-from-file'] || values.idle !== undefined) throw new UsageError('--mp-from-file and --idle are for analyze (serve runs until stopped)');
    checkMpOptions(values);
    // Checked before listening: a bad option is one line, not a service that then fails.
    // A restarted service rebuilds its board from the stream (events replayed, not republished).
    const natsOptions = subscribe !== undefined ? { ...subscribeOptions(subscribe, values, 'migscope-serve'), replayEvents: true } : undefined;
    if (values.token !== undefined && values['token-file'] !== undefined) throw new UsageError('--token and --token-file are exclusive');
    const listen = parseListen(values.listen ?? DEFAULT_LISTEN);
    let token = values.token;
    if (values['token-file'] !== undefined) {
      try {
        token = readFileSync(values['token-file'], 'utf8').split('\n')[0]!.trim();
      } catch (err) {
        throw new UsageError(`--token-file: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
    checkBind(listen, token, values.insecure ?? false);
    const speed = numberOption(values.speed, 'speed', 0.01, 1e6, 1);
    const stallAfter = numberOption(values['stall-after'], 'stall-after', 0.001, 86_400, 30);
    const live = positionals.some((s) => s.startsWith('iface:') || s.startsWith('dpmi-iface:'));
    const paced = values.demo === true || values.realtime === true || live || subscribe !== undefined;

    const service = new Service({
      listen, version: packageVersion(), stallAfterSeconds: stallAfter, paced, speed,
      ...(token !== undefined ? { token } : {}),
    });
    const address = await service.start();
    const shown = address.host.includes(':') ? `[${address.host}]` : address.host;
    process.stderr.write(`migscope serve: listening on http://${shown}:${address.port}/ (metrics at /metrics)\n`);
    if (token === undefined && !isLoopback(listen.host)) process.stderr.write('migscope serve: --insecure: anyone who can reach this address can read it\n');

    const ac = new AbortController();
    const stop = (): void => ac.abort();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    try {
      const items = natsOptions ? natsItems(natsOptions, ac.signal) : values.demo
        ? demoItems({ speed }, ac.signal)
        : pipelineItems(positionals, {
          realtime: values.realtime ?? false, speed, hosts: parseHosts(values.hosts), labels: parseLabels(values.label),
          ...captureOptions(values),
        }, ac.signal);
      await service.consume(items, ac.signal);
      if (!ac.signal.aborted) {
        process.stderr.write('migscope serve: all sources read; serving the results until SIGTERM/SIGINT\n');
        await new Promise<void>((resolve) => ac.signal.addEventListener('abort', () => resolve(), { once: true }));
      }
    } finally {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      await service.stop();
    }
    process.stderr.write('migscope serve: stopped\n');
    return 0;
  },
};
