/**
 * Issue 10's growing inputs, built at a moderate N, through the real CLI on both paths
 * (pure-TS reader and `--workers 2` native ring): no hang, exit 0, no stack trace, the
 * anomalies that must be counted are counted, and a real migration after the attack is
 * found with exactly its generated phases. No timing asserts: `npm run bench -- --hostile`
 * shows the N → 4N ratios.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { GroundTruth } from '../../src/generate/index.js';
import { symmetricHash } from '../../src/dissect/flow-hash.js';
import { PacketView } from '../../src/decode/packet-view.js';
import { parsePacket } from '../../src/decode/parse.js';
import { buildTcpFrame, TCP_SYN } from '../../src/generate/wire/tcp-frame.js';
import { MAX_CANDIDATES } from '../../src/phases/context.js';
import { MAX_KEPT_PASSES } from '../../src/protocols/qemu/ram.js';
import {
  CraftedCapture, hashCollisionFlood, hostOf, libvirtBlankXml, qemuZeroPages, reassemblyFlood, synFlood,
} from './craft-packets.js';
import { analyze, expectClean, expectMigrationFound, type CliRun } from './run-cli.js';

const dir = mkdtempSync(join(tmpdir(), 'migscope-hostile-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const N = 20_000;
const PATHS: [string, string[]][] = [['pure-TS', []], ['--workers 2', ['--workers', '2']]];

function craft(name: string, attack: (c: CraftedCapture) => void): { file: string; truth: GroundTruth } {
  const file = join(dir, `${name}.pcap`);
  const c = new CraftedCapture(file);
  attack(c);
  const truth = c.migration({ scenario: 'kvm', seed: 11 });
  c.close();
  return { file, truth };
}

function bothPaths(file: string, truth: GroundTruth, check: (r: CliRun) => void): void {
  for (const [, args] of PATHS) {
    const r = analyze(file, args);
    expectClean(r);
    expectMigrationFound(r, truth);
    check(r);
  }
}

describe('hostile input: linear time, the migration after the attack still found', () => {
  it('1-byte segments in descending sequence order (wrapping 2^32): one 1-byte hole, nothing else lost', () => {
    const { file, truth } = craft('desc', (c) => reassemblyFlood(c, N, 'descending'));
    bothPaths(file, truth, (r) => {
      // Offset 0 is never sent: exactly one byte is missing; all the others were reassembled.
      expect(r.anomalies['tcp-hole']).toBe(1);
      expect(r.anomalies['flow-memory']).toBeUndefined();
    });
  });

  it('1-byte segments in random order: every byte reassembled but the one never sent', () => {
    const { file, truth } = craft('random', (c) => reassemblyFlood(c, N, 'random'));
    bothPaths(file, truth, (r) => {
      // At this N the held ranges (bookkeeping counted) stay under the 4 MiB flow budget.
      expect(r.anomalies['tcp-hole']).toBe(1);
      expect(r.anomalies['flow-memory']).toBeUndefined();
    });
  });

  it(`SYN flood to 16509 from random sources: O(1) per SYN, candidates past ${MAX_CANDIDATES} shed and counted`, () => {
    const { file, truth } = craft('syn16509', (c) => synFlood(c, N, 16509));
    bothPaths(file, truth, (r) => {
      // N flood SYNs and the migration's own libvirt SYN, each a candidate until recognised.
      expect(r.anomalies['memory-shed']).toBe(N + 1 - MAX_CANDIDATES);
      expect([...r.reasons['memory-shed']!].join()).toMatch(/unrecognised libvirt connection/);
    });
  });

  it('flows chosen to collide in an unkeyed hash: analysed, and their keyed hashes differ', () => {
    const { file, truth } = craft('hash', (c) => hashCollisionFlood(c, N));
    bothPaths(file, truth, () => {});
    // The crafted 5-tuples share (address xor port); the keyed hash still spreads them.
    const pv = new PacketView();
    const hashes = new Set<number>();
    for (let i = 0; i < N; i++) {
      const ipLow = (i * 7) & 0xffff;
      const frame = buildTcpFrame({
        src: hostOf(`10.77.${ipLow >>> 8}.${ipLow & 255}`), dst: hostOf('192.168.50.2'), srcPort: (ipLow ^ 0x5a5a) & 0xffff,
        dstPort: 9, seq: i, ack: 0, flags: TCP_SYN, window: 0, ipId: 0, tsval: 0, tsecr: 0,
      }, [], 0);
      expect(parsePacket(frame, 1, frame.length, pv)).toBeNull();
      hashes.add(symmetricHash(pv));
    }
    expect(hashes.size).toBeGreaterThan(N * 0.999);
  });

  it(`QEMU stream of zero pages at descending addresses: pass bookkeeping bounded at ${MAX_KEPT_PASSES}, counted`, () => {
    const { file, truth } = craft('qemu', (c) => qemuZeroPages(c, MAX_KEPT_PASSES + N));
    bothPaths(file, truth, (r) => {
      expect(r.anomalies['memory-shed']).toBe(1);
      expect([...r.reasons['memory-shed']!].join()).toMatch(/RAM passes/);
    });
  });

  it('libvirt prepare3 with 20 000 blanks in the domain XML and the cookie: no backtracking', () => {
    const { file, truth } = craft('xml', (c) => libvirtBlankXml(c, 20_000));
    bothPaths(file, truth, () => {});
  });
});
