/**
 * Stateful fuzzing: whole generated migrations (every TCP conversation of a KVM and an
 * OpenStack run) mutated as a hostile or broken link would — segments reordered in
 * windows, dropped, duplicated, bytes corrupted, snaplen-cut — through the Dissector
 * and the phase engine. Never throws, no internal error, the packet count and the
 * memory budget stay consistent (everything charged is given back at the end).
 * MIGSCOPE_FUZZ=full runs 20 000 mutated migrations (millions of packets); CI a few dozen.
 */
import { describe, expect, it } from 'vitest';
import { Dissector } from '../../src/dissect/dissector.js';
import type { CapturedPacket } from '../../src/ingest/types.js';
import { PhaseEngine } from '../../src/phases/engine.js';
import { fuzzCount, reportFuzzed } from '../helpers/fuzz-scale.js';
import { CraftedCapture, memoryCapture, rng } from './craft-packets.js';

const RUNS = fuzzCount(40, 20_000);

function migrationPackets(scenario: 'kvm' | 'openstack'): CapturedPacket[] {
  const cap = memoryCapture();
  new CraftedCapture(cap).migration({ scenario, seed: 9, payloadScale: 0.001 });
  return cap.packets;
}

function mutate(src: readonly CapturedPacket[], next: () => number): CapturedPacket[] {
  const out: CapturedPacket[] = [];
  const rate = 1 + (next() % 20); // per mille of packets touched by each kind of damage
  for (let i = 0; i < src.length; i++) {
    const p = src[i]!;
    const r = next() % 1000;
    if (r < rate) continue; // dropped
    let data = p.data;
    let wire = p.wireLength;
    if (next() % 1000 < rate) { data = data.slice(); data[next() % data.length] ^= 1 << (next() % 8); } // corrupted
    if (next() % 1000 < rate) { data = data.subarray(0, next() % (data.length + 1)); } // cut by a snaplen
    const q = { ...p, data, wireLength: Math.max(wire, data.length) };
    out.push(q);
    if (next() % 1000 < rate) out.push(q); // duplicated
  }
  // Reordered: windows of up to 8 packets reversed (timestamps stay with their packets).
  for (let i = 0; i < out.length; i++) {
    if (next() % 1000 >= rate) continue;
    const n = 2 + (next() % 7);
    const w = out.slice(i, i + n).reverse();
    out.splice(i, w.length, ...w);
    i += n;
  }
  return out;
}

describe('stateful fuzzing: mutated whole migrations', () => {
  it(`${RUNS} mutated migrations through Dissector + PhaseEngine: no throw, counts and budget consistent`, () => {
    const bases = [migrationPackets('kvm'), migrationPackets('openstack')];
    const next = rng(20261202);
    let packets = 0;
    for (let run = 0; run < RUNS; run++) {
      const input = mutate(bases[run % 2]!, next);
      const engine = new PhaseEngine({ onEvent: () => {} });
      // A small budget on some runs, so shedding happens in the middle of real protocol state.
      const bugs: string[] = [];
      const d = new Dissector((m) => {
        if (m.protocol === 'anomaly' && (m.code === 'DISSECTOR_INTERNAL' || m.code === 'FLOW_DECODER_THREW')) bugs.push(m.code);
        engine.push(m);
      }, run % 3 === 0 ? { maxMemory: 64 * 1024 } : {});
      for (const p of input) d.packet(p);
      d.finish();
      const summary = engine.end();
      packets += input.length;
      expect(d.stats.packets).toBe(input.length);
      expect(d.memory.used).toBe(0);
      // A throw inside the Dissector or a decoder is caught and counted: it must not happen.
      expect(bugs).toEqual([]);
      expect(summary.migrations.length).toBeLessThanOrEqual(4);
    }
    reportFuzzed('mutated whole migrations', RUNS, packets);
    expect(packets).toBeGreaterThan(RUNS * 100);
  }, fuzzCount(600_000, 8 * 3_600_000)); // the full run took over 1 h on a busy 2-core machine
});
