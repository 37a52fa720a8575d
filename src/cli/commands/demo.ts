import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UsageError } from '../../core/errors.js';
import { intOption, numberOption, parseCommandArgs, type Command } from '../command.js';
import { watchSource } from './watch.js';

const USAGE = 'migscope demo [--scenario openstack|kvm] [--speed X] [--seed N]';
const HELP = `usage: ${USAGE}

Generates one VM live migration (OpenStack on KVM by default, m1.small, idle guest, 1
Gbit/s) into a temporary pcap file and watches it in real time: the phases as they
happen on the wire, pre-copy progress, the switch-over and the downtime, then the
summary table. Needs nothing but Node.js.
  --speed X     replay X times faster than the wire (default 1: about 6 s)
  --scenario    openstack (default) or kvm
  --seed N      generator seed (default 1)`;

export const command: Command = {
  summary: 'generate an OpenStack migration and watch it live (the first thing to try)',
  async run(argv) {
    const { values } = parseCommandArgs(argv, {
      scenario: { type: 'string' },
      speed: { type: 'string' },
      seed: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    }, false);
    if (values.help) {
      process.stdout.write(`${HELP}\n`);
      return 0;
    }
    const scenario = values.scenario ?? 'openstack';
    if (scenario !== 'openstack' && scenario !== 'kvm') throw new UsageError(`--scenario must be openstack or kvm (got '${scenario}')`);
    const speed = numberOption(values.speed, 'speed', 0.01, 1e6, 1);
    const seed = intOption(values.seed, 'seed', 0, 2 ** 31 - 1, 1);
    // Loaded here, not at start-up: no other command needs the generator.
    const { writeTrace } = await import('../../generate/write-trace.js');
    const dir = await mkdtemp(join(tmpdir(), 'migscope-demo-'));
    try {
      const file = join(dir, 'demo.pcap');
      writeTrace(file, { scenario, flavor: 1, load: 0, linkGbps: 1, runs: 1, overlap: false, seed, payloadScale: 0.05 }, 'pcap');
      process.stdout.write(`migscope demo: ${scenario} migration generated into ${file}, watching it at ${speed}× wire speed\n\n`);
      await watchSource(file, { realtime: true, speed });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
    return 0;
  },
};
