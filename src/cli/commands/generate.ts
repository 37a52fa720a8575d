import { UsageError } from '../../core/errors.js';
import type { WriteFormat } from '../../ingest/types.js';
import { DEFAULT_OPTIONS, type GenerateOptions, type LosableMarker, type Outcome, type Scenario } from '../../generate/index.js';
import { writeTrace } from '../../generate/write-trace.js';
import { type Command, intOption, numberOption, parseCommandArgs } from '../command.js';

const HELP = `usage: migscope generate --scenario kvm|openstack -o FILE [options]
  --flavor 1-4            m1.small … m1.xlarge (1/2/4/8 vCPU, 2/4/8/16 GiB)     [1]
  --load 0-100            guest CPU load in %, drives the dirty rate             [0]
  --link-gbps G           link speed                                             [1]
  --runs N                migrations, one after the other                        [1]
  --overlap               the N migrations (different VMs) overlap in time
  --seed N                                                                       [1]
  --format F              pcap|pcap-ns|pcapng|dpmi|dpmi-frames                   [pcap]
  --payload-scale F       0<F≤1: share of RAM pages encoded (timing kept)        [${DEFAULT_OPTIONS.payloadScale}]
  --snaplen N             bytes kept per packet
  --outcome O             completed|failed-prepare|failed-transfer|cancelled     [completed]
  --lose MARKER           drop the packet of one phase marker (e.g. prepare-reply)
  --dirty-ratio R         0<R≤2: each pre-copy pass is R × the previous one (default
                          from --load); R ≥ 1 never converges (29 passes, then forced)
  -o FILE                 output; the ground truth goes to FILE.truth.json`;

const FORMATS: readonly WriteFormat[] = ['pcap', 'pcap-ns', 'pcapng', 'dpmi', 'dpmi-frames'];

export const command: Command = {
  summary: 'write a generated migration trace and its ground truth',
  async run(argv: string[]): Promise<number> {
    const { values, positionals } = parseCommandArgs(argv, {
      scenario: { type: 'string' }, flavor: { type: 'string' }, load: { type: 'string' }, 'link-gbps': { type: 'string' },
      runs: { type: 'string' }, overlap: { type: 'boolean' }, seed: { type: 'string' }, format: { type: 'string' },
      'payload-scale': { type: 'string' }, snaplen: { type: 'string' }, outcome: { type: 'string' }, lose: { type: 'string' },
      'dirty-ratio': { type: 'string' }, output: { type: 'string', short: 'o' }, help: { type: 'boolean', short: 'h' },
    }, false);
    if (values.help) {
      process.stdout.write(`${HELP}\n`);
      return 0;
    }
    void positionals;
    if (!values.output) throw new UsageError('missing -o FILE');
    const format = (values.format ?? 'pcap') as WriteFormat;
    if (!FORMATS.includes(format)) throw new UsageError(`--format must be one of ${FORMATS.join(', ')} (got '${format}')`);
    if (values.scenario === undefined) throw new UsageError('missing --scenario kvm|openstack');
    const opts: GenerateOptions = {
      ...DEFAULT_OPTIONS,
      scenario: values.scenario as Scenario,
      flavor: intOption(values.flavor, 'flavor', 1, 4, 1),
      load: numberOption(values.load, 'load', 0, 100, 0),
      linkGbps: numberOption(values['link-gbps'], 'link-gbps', 0.001, 400, 1),
      runs: intOption(values.runs, 'runs', 1, 10000, 1),
      overlap: values.overlap ?? false,
      seed: intOption(values.seed, 'seed', 0, 2 ** 32 - 1, 1),
      format,
      payloadScale: numberOption(values['payload-scale'], 'payload-scale', Number.MIN_VALUE, 1, DEFAULT_OPTIONS.payloadScale),
      outcome: (values.outcome ?? 'completed') as Outcome,
      ...(values.lose !== undefined ? { lose: values.lose as LosableMarker } : {}),
      ...(values['dirty-ratio'] !== undefined ? { dirtyRatio: numberOption(values['dirty-ratio'], 'dirty-ratio', Number.MIN_VALUE, 2, 1) } : {}),
    };
    const snaplen = intOption(values.snaplen, 'snaplen', 64, 262144, 262144);
    // Validate before creating the file, so a usage error leaves nothing behind.
    const { validateOptions } = await import('../../generate/index.js');
    validateOptions(opts);
    writeTrace(values.output, opts, format, { snaplen, comment: 'migscope generate' });
    return 0;
  },
};
