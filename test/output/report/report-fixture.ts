import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PS_PER_S, type Picos } from '../../../src/core/time.js';
import { migrationEventLines, synthesizeMigration } from '../../stats/series-fixture.js';
import { seededRandom } from '../../helpers/rng.js';

export const FLAVORS = [1, 2, 3, 4];
export const LOADS = [0, 25, 50, 75, 100];

/** One NDJSON file per (flavor, load) cell, `runs` OpenStack migrations each; returns the paths. */
export function writeOpenstackSeries(dir: string, runs: number, seed = 11): string[] {
  const rand = seededRandom(seed);
  let t: Picos = 1_700_000_000n * PS_PER_S;
  const files: string[] = [];
  for (const flavor of FLAVORS) {
    for (const load of LOADS) {
      const lines: string[] = [];
      for (let run = 1; run <= runs; run++) {
        lines.push(...migrationEventLines(synthesizeMigration(`m${run}`, { flavor: String(flavor), load: String(load) }, flavor, load, rand, t)));
        t += 60n * PS_PER_S;
      }
      const file = join(dir, `flavor${flavor}-load${load}.ndjson`);
      writeFileSync(file, `${lines.join('\n')}\n`);
      files.push(file);
    }
  }
  return files;
}

/** A truth file with `n` KVM migrations (remote connect … cleanup), study-like durations. */
export function writeKvmTruth(dir: string, n: number): string {
  const ms = 1_000_000_000n;
  const migrations = [];
  for (let i = 0; i < n; i++) {
    const t0 = (1_700_100_000n + BigInt(i) * 60n) * PS_PER_S;
    const spans: Array<[string, bigint, bigint]> = [
      ['remote-connect', 0n, 7n * ms], ['preparation', 10n * ms, 600n * ms + BigInt(i) * ms],
      ['transfer', 610n * ms, 2570n * ms + BigInt(i * 3) * ms], ['finish', 2580n * ms, 2650n * ms],
      ['cleanup', 2650n * ms, 3000n * ms],
    ];
    migrations.push({
      id: `m${i + 1}`, scenario: 'kvm', outcome: 'completed', factors: {},
      phases: Object.fromEntries(spans.map(([p, s, e]) => [p, { start: String(t0 + s), end: String(t0 + e) }])),
      libvirtTotal: String(3000n * ms), downtime: String(17n * ms + BigInt(i) * ms),
    });
  }
  const file = join(dir, 'kvm.truth.json');
  writeFileSync(file, JSON.stringify({ generator: 'test', seed: 1, format: 'pcap', resolution: '1000000', migrations }));
  return file;
}

export function count(haystack: string, needle: string): number {
  return haystack.split(needle).length - 1;
}
