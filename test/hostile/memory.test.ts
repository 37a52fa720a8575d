/**
 * One memory budget (--max-memory): honest costs, everything given back at the end,
 * shedding counted as memory-shed, and the migration after the attack still found.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterAll, describe, expect, it } from 'vitest';
import { Dissector } from '../../src/dissect/dissector.js';
import { BUFFER_COST, RANGE_COST } from '../../src/dissect/held-range.js';
import { FLOW_COST } from '../../src/dissect/flow.js';
import { PhaseEngine } from '../../src/phases/engine.js';
import {
  CraftedCapture, manyOutOfOrderFlows, memoryCapture, qemuZeroPages, reassemblyFlood, synFlood,
} from './craft-packets.js';
import { analyze, expectClean, expectMigrationFound } from './run-cli.js';

const dir = mkdtempSync(join(tmpdir(), 'migscope-hostile-mem-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

function heapAfterGc(): number {
  // Several collections: V8 also flushes old bytecode over a few GCs, which must not count.
  for (let i = 0; i < 6; i++) gc();
  return process.memoryUsage().heapUsed + process.memoryUsage().arrayBuffers;
}

describe('memory budget: costs counted honestly', () => {
  it('a SYN-only flow costs about FLOW_COST of heap (its decoder is made at the first byte)', () => {
    const cap = memoryCapture();
    synFlood(new CraftedCapture(cap), 20_000, 16509);
    const d = new Dissector(() => {});
    const before = heapAfterGc();
    for (const p of cap.packets) d.packet(p);
    const perFlow = (heapAfterGc() - before) / d.flows.length;
    expect(cap.packets.length).toBe(20_000); // (keeps the packets alive through the measurement)
    expect(d.flows.length).toBeGreaterThan(19_000);
    const charged = FLOW_COST;
    expect(d.memory.used).toBe(d.flows.length * charged);
    expect(perFlow).toBeGreaterThan(charged / 2);
    expect(perFlow).toBeLessThan(charged * 2);
    d.finish();
    expect(d.memory.used).toBe(0);
  });

  it('an isolated out-of-order byte costs about RANGE_COST + BUFFER_COST of heap', () => {
    const cap = memoryCapture();
    // Every other byte, so no two ranges merge: 100 000 ranges in one flow.
    const c = new CraftedCapture(cap);
    reassemblyFlood(c, 200_000, 'descending');
    const packets = cap.packets.filter((_, i) => i === 0 || i % 2 === 1);
    cap.packets.length = 0; // the other half is garbage before the first measurement, not during
    const d = new Dissector(() => {}, { maxFlowBufferBytes: 1 << 30 });
    d.packet(packets[0]!);
    const before = heapAfterGc();
    for (const p of packets.slice(1)) d.packet(p);
    const r = d.flows[0]!.c2s!;
    const perRange = (heapAfterGc() - before) / r.heldRanges;
    expect(packets.length).toBe(100_001); // (keeps the packets alive through the measurement)
    expect(r.heldRanges).toBe(100_000);
    const charged = RANGE_COST + BUFFER_COST + 1;
    expect(r.heldCost).toBe(r.heldRanges * charged);
    expect(perRange).toBeGreaterThan(charged / 2);
    expect(perRange).toBeLessThan(charged * 2);
    d.finish();
    expect(d.memory.used).toBe(0);
  });

  it('every charge is given back: used returns to 0 after any mix of attack and migration', () => {
    const cap = memoryCapture();
    const c = new CraftedCapture(cap);
    reassemblyFlood(c, 3000, 'random');
    manyOutOfOrderFlows(c, 5, 200_000, 80);
    manyOutOfOrderFlows(c, 5, 200_000);
    qemuZeroPages(c, 12_000);
    synFlood(c, 3000, 16509);
    c.migration({ scenario: 'openstack', seed: 5 });
    for (const budget of [16 << 20, 1 << 20, 64 << 10]) {
      const engine = new PhaseEngine({ onEvent: () => {} });
      const d = new Dissector((m) => engine.push(m), { maxMemory: budget });
      let peak = 0;
      for (const p of cap.packets) { d.packet(p); if (d.memory.used > peak) peak = d.memory.used; }
      d.finish();
      engine.end();
      expect(d.memory.used, `budget ${budget}`).toBe(0);
      // The budget holds after each packet, give or take the one packet being processed.
      expect(peak, `budget ${budget}`).toBeLessThan(budget + (1 << 20));
      expect(d.stats.anomalies['malformed-packet'] ?? 0).toBe(0);
    }
  });
});

describe('memory budget through the CLI (both paths)', () => {
  const PATHS: string[][] = [[], ['--workers', '2']];

  it('out-of-order data on many flows past --max-memory: shed (memory-shed, tcp-hole), the migration still exact', () => {
    const file = join(dir, 'ooo.pcap');
    const c = new CraftedCapture(file);
    manyOutOfOrderFlows(c, 24, 1 << 20); // 1 MiB each stays under the 4 MiB flow bound; 24 MiB in all passes 16M
    const truth = c.migration({ scenario: 'kvm', seed: 3 });
    c.close();
    for (const args of PATHS) {
      const r = analyze(file, ['--max-memory', '16M', ...args]);
      expectClean(r);
      expectMigrationFound(r, truth);
      expect(r.anomalies['memory-shed'], args.join(' ')).toBeGreaterThan(0);
      expect(r.anomalies['tcp-hole']).toBeGreaterThan(0);
    }
  });

  it('snaplen-cut out-of-order segments count against the flow budget (flow-memory)', () => {
    const file = join(dir, 'cut.pcap');
    const c = new CraftedCapture(file);
    manyOutOfOrderFlows(c, 1, 60_000 * 1400, 80);
    const truth = c.migration({ scenario: 'kvm', seed: 4 });
    c.close();
    for (const args of PATHS) {
      const r = analyze(file, args);
      expectClean(r);
      expectMigrationFound(r, truth);
      expect(r.anomalies['flow-memory'], args.join(' ')).toBeGreaterThan(0);
    }
  });

  it('--max-memory rejects nonsense with a one-line usage error', () => {
    const r = analyze(join(dir, 'cut.pcap'), ['--max-memory', 'lots']);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/--max-memory/);
  });
});
