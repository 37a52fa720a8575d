/**
 * `npm run bench -- --smoke` end to end: the tiny traces through every subject. Speed is
 * not judged here (benchmarks are not tests); what is checked is that the numbers the
 * bench reports are honest: every subject ran to exit 0 over the whole file, the packet
 * counts match the trace, and every rate and ratio is computed from the measured times.
 */
import { execFile, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BenchResults } from '../../bench/types.js';

const root = resolve(__dirname, '../..');
const exec = promisify(execFile);
const has = (tool: string): boolean => spawnSync('sh', ['-c', `command -v ${tool}`]).status === 0;

describe('npm run bench -- --smoke', () => {
  let out: string;
  let results: BenchResults;
  let markdown: string;

  beforeAll(async () => {
    out = mkdtempSync(join(tmpdir(), 'mgs-bench-smoke-'));
    // dist/ is built by `npm test` (build:ts) before vitest runs. The live part has its
    // own smoke test (test/live/bench-live.test.ts).
    await exec('node', [join(root, 'dist/bench/run.js'), '--smoke', '--no-live', '--out', out], { timeout: 280_000, maxBuffer: 16 << 20 });
    const json = readdirSync(out).filter((f) => f.startsWith('smoke-') && f.endsWith('.json'));
    expect(json).toHaveLength(1);
    results = JSON.parse(readFileSync(join(out, json[0]!), 'utf8')) as BenchResults;
    markdown = readFileSync(join(out, 'latest-smoke.md'), 'utf8');
    // The smoke run takes about a minute alone; on a loaded 2-core machine several times that.
  }, 300_000);
  afterAll(() => rmSync(out, { recursive: true, force: true }));

  it('measures every subject on every trace, each over the whole file', () => {
    expect(results.mode).toBe('smoke');
    expect(results.traces.map((t) => t.name)).toEqual(['realshape-56.pcap', 'xlarge-10g.pcap', 'xlarge-10g.dpmi', 'mixed-8.pcap']);
    for (const t of results.traces) {
      const runs = results.runs.filter((r) => r.trace === t.name);
      const names = runs.map((r) => r.subject);
      expect(names).toContain('migscope pure-TS');
      expect(names).toContain('cat F >/dev/null');
      expect(names).toEqual(expect.arrayContaining(['migscope pure-TS mmap', 'migscope --workers 2']));
      if (t.format === 'pcap') {
        expect(names).toEqual(expect.arrayContaining(['migscope ring ×2 (libpcap)', 'pcap-parser (npm)']));
        if (has('tshark')) expect(names).toEqual(expect.arrayContaining(['tshark -q', 'tshark -Y libvirt', 'tshark -T fields']));
        if (has('tcpdump')) expect(names).toContain('tcpdump -r F -w /dev/null');
      }
      expect(t.packets).toBeGreaterThan(1000);
      for (const r of runs) {
        expect({ subject: r.subject, exit: r.exitCode, problem: r.problem }).toEqual({ subject: r.subject, exit: 0, problem: undefined });
        if (r.migscope || r.subject.startsWith('pcap-parser') || r.subject === 'tshark -T fields') {
          expect(r.packetsCounted, `${r.subject} on ${t.name}`).toBe(t.packets);
        }
        expect(r.maxRssBytes).toBeGreaterThan(0);
      }
    }
  });

  it('computes rates and ratios from the measured wall times', () => {
    for (const t of results.traces) {
      const runs = results.runs.filter((r) => r.trace === t.name);
      const base = runs.find((r) => r.subject === 'migscope pure-TS')!;
      const best = Math.min(...runs.filter((r) => r.migscope).map((r) => r.wallSeconds));
      for (const r of runs) {
        expect(r.wallSeconds).toBeGreaterThan(0);
        expect(r.packetsPerSecond).toBeCloseTo(t.packets / r.wallSeconds, 6);
        expect(r.gbitPerSecond).toBeCloseTo((t.capturedBytes * 8) / r.wallSeconds / 1e9, 9);
        expect(Number.isFinite(r.timeRatioToMigscope)).toBe(true);
        expect(r.timeRatioToMigscope).toBeCloseTo(r.wallSeconds / base.wallSeconds, 9);
        expect(r.timeRatioToBestMigscope).toBeCloseTo(r.wallSeconds / best, 9);
        expect(r.cpuRatioToMigscope).toBeCloseTo(r.cpuSeconds / base.cpuSeconds, 9);
      }
      expect(base.timeRatioToMigscope).toBe(1);
    }
  });

  it('reports latency, the decode ceiling and every target, in JSON and Markdown', () => {
    expect(results.latency!.events).toBeGreaterThan(0);
    expect(results.latency!.processing.p99).toBeGreaterThan(0);
    expect(results.dissector.packetsPerSecond).toBeGreaterThan(0);
    expect(results.dissector.holeBytes).toBe(0);
    expect(results.targets.map((v) => v.target)).toHaveLength(9);
    for (const v of results.targets.filter((x) => !x.target.startsWith('live'))) expect(Number.isFinite(v.measured)).toBe(true);
    expect(results.liveSkipped).toBe('--no-live');
    expect(results.targets.find((v) => v.target.startsWith('live'))).toMatchObject({ met: null, note: '--no-live' });
    expect(markdown).toContain('| migscope pure-TS |');
    expect(markdown).toContain('## Targets');
    // Where the time goes: a CPU profile of the pure-TS path, its shares summing to ≤ 100 %.
    expect(results.profile!.top.length).toBeGreaterThan(5);
    expect(results.profile!.top.reduce((a, t) => a + t.share, 0)).toBeLessThanOrEqual(1.0001);
    expect(markdown).toContain("## Where the pure-TS path's time goes");
  });

  it('measures agent → NATS → aggregator against the same records in-process (or says why not)', () => {
    if (!has('nats-server')) { expect(results.natsSkipped).toMatch(/nats-server/); return; }
    expect(results.nats, results.natsSkipped).toBeDefined();
    const n = results.nats!;
    expect(n.trace).toBe('mixed-8.pcap');
    expect(n.messages).toBeGreaterThan(1000);
    expect(n.natsMessagesPerSecond).toBeCloseTo(n.messages / n.natsSeconds, 6);
    expect(n.inProcessMessagesPerSecond).toBeCloseTo(n.messages / n.inProcessSeconds, 6);
    expect(n.ratio).toBeCloseTo(n.natsSeconds / n.inProcessSeconds, 9);
    expect(markdown).toContain('## Measurement points over NATS');
  });
});
