/**
 * Wire time a capture's clock chose: pcapng if_tsoffset far in the future or before the
 * epoch. No crash, no wrong string, no wrapped integer: every form of output carries the
 * true bigint, and the table and report print a correct ISO date.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatIso, PS_PER_S } from '../../src/core/time.js';
import { decodeMsgpackStream } from '../../src/core/msgpack.js';
import { MsgpackWriter } from '../../src/output/msgpack.js';
import { cleanTrace, ndjson, ngPackets, pcapngSection, runCli, tempDir } from './craft-files.js';

describe('formatIso', () => {
  it('agrees with Date wherever Date can count, before the epoch too', () => {
    let seed = 7;
    const next = (): number => { seed = (seed * 48_271) % 2_147_483_647; return seed / 2_147_483_647; };
    for (let i = 0; i < 20_000; i++) {
      const ms = Math.floor((next() * 2 - 1) * 8.64e15);
      const subMs = BigInt(Math.floor(next() * 1e9));
      const ts = BigInt(ms) * 1_000_000_000n + subMs;
      const date = new Date(ms).toISOString(); // 1969-12-31T23:58:20.123Z or +275760-…
      const expected = `${date.slice(0, -1)}${subMs.toString().padStart(9, '0')}Z`;
      expect(formatIso(ts), String(ts)).toBe(expected);
    }
  });

  it('formats beyond Date\'s range with ISO expanded years', () => {
    expect(formatIso(-1n)).toBe('1969-12-31T23:59:59.999999999999Z');
    expect(formatIso(253_402_300_800n * PS_PER_S)).toBe('+010000-01-01T00:00:00.000000000000Z');
    expect(formatIso(-62_167_219_201n * PS_PER_S)).toBe('-000001-12-31T23:59:59.000000000000Z');
  });

  it('repeats every 400 years (146 097 days), far past Date\'s range', () => {
    const cycle = 146_097n * 86_400n * PS_PER_S;
    for (const [sec, k] of [[0n, 1n], [1_795_000_000n, 712n], [-1n, -5000n], [12_580_070_400n, 712n], [86_399n, 10n ** 9n]] as const) {
      const ts = sec * PS_PER_S + 123n;
      const [, year, rest] = /^([+-]?\d+)(-.*)$/.exec(formatIso(ts))!;
      const far = /^([+-]?\d+)(-.*)$/.exec(formatIso(ts + k * cycle))!;
      expect(BigInt(far[1]!), String(sec)).toBe(BigInt(year!) + 400n * k);
      expect(far[2], String(sec)).toBe(rest);
    }
    // if_tsoffset = 9·10^12 s is 712 cycles after 2368-08-24T16:00:00Z.
    expect(formatIso(9_000_000_000_000n * PS_PER_S)).toBe('+287168-08-24T16:00:00.000000000000Z');
  });
});

describe('msgpack bigints', () => {
  it('round-trips every width and sign, none wrapped', () => {
    const values = [0n, -1n, (1n << 63n) - 1n, -(1n << 63n), -(1n << 63n) - 1n, (1n << 64n) - 1n, 1n << 64n,
      -(1n << 64n), -(10n ** 30n), 10n ** 30n, 1_795_000_000_000_000_000_000n, -(9n * 10n ** 24n)];
    const chunks: Uint8Array[] = [];
    const w = new MsgpackWriter({ write: (c: Uint8Array) => chunks.push(Uint8Array.from(c)) });
    for (const v of values) w.write({ ts: v, nested: [{ d: v }] });
    const back = decodeMsgpackStream(Buffer.concat(chunks)) as { ts: bigint; nested: { d: bigint }[] }[];
    expect(back.map((b) => b.ts)).toEqual(values);
    expect(back.map((b) => b.nested[0]!.d)).toEqual(values);
  });
});

describe('pcapng if_tsoffset far from now', () => {
  const tmp = tempDir();
  let clean: Record<string, unknown>[] = [];
  let pcap: Uint8Array = new Uint8Array(0);
  beforeAll(async () => {
    const { file } = cleanTrace(tmp.dir, 'g.pcap');
    pcap = new Uint8Array(readFileSync(file));
    const r = await runCli(['analyze', '--json', file]);
    expect(r.code, r.stderr).toBe(0);
    clean = ndjson(r.stdout);
    expect(clean.filter((e) => e.type === 'migration-ended')).toHaveLength(1);
  });
  afterAll(() => tmp.cleanup());

  /** Every "ts" of the events, shifted back by `offset` seconds. */
  const shifted = (events: Record<string, unknown>[], offset: bigint): Record<string, unknown>[] =>
    events.map((e) => ({ ...e, ts: String(BigInt(e.ts as string) - offset * PS_PER_S) }));

  for (const offset of [9_000_000_000_000n, -1_795_000_100n, -(10n ** 15n)]) {
    it(`offset ${offset} s: the same events shifted, every output form, a correct date`, async () => {
      const file = join(tmp.dir, `off${offset}.pcapng`);
      const packets = ngPackets(pcap).map((p) => ({ ...p, ts: p.ts + offset * PS_PER_S }));
      writeFileSync(file, pcapngSection({ interfaces: [{ linkType: 1, tsoffsetS: offset }], packets }));
      const json = await runCli(['analyze', '--json', file]);
      expect(json.code, json.stderr).toBe(0);
      const events = ndjson(json.stdout).filter((e) => e.type !== 'anomaly');
      const cleanPhases = clean.filter((e) => e.type !== 'anomaly');
      expect(shifted(events, offset).map((e) => e.ts)).toEqual(cleanPhases.map((e) => e.ts));
      expect(events.map((e) => e.type)).toEqual(cleanPhases.map((e) => e.type));

      const msgpack = await runCli(['analyze', '--msgpack', file]);
      expect(msgpack.code, msgpack.stderr).toBe(0);
      const decoded = decodeMsgpackStream(msgpack.stdoutBytes) as { type: string; ts: bigint }[];
      // The closing summary record is left out on both sides (ndjson() drops it from the JSON).
      expect(decoded.filter((e) => e.type !== 'anomaly' && e.type !== 'summary').map((e) => e.ts)).toEqual(events.map((e) => BigInt(e.ts as string)));

      const table = await runCli(['analyze', file]);
      expect(table.code, table.stderr).toBe(0);
      const ended = events.find((e) => e.type === 'migration-ended') as { phases: Record<string, { start: string }> };
      const origin = Object.values(ended.phases).map((p) => BigInt(p.start)).reduce((a, b) => (b < a ? b : a));
      expect(table.stdout).toContain(`started ${formatIso(origin)}`);

      const nd = join(tmp.dir, `off${offset}.ndjson`);
      writeFileSync(nd, json.stdout);
      const report = await runCli(['report', nd, '-o', join(tmp.dir, `report${offset}`)]);
      expect(report.code, report.stderr).toBe(0);
    });
  }
});

describe('out-of-range times are counted', () => {
  const tmp = tempDir();
  afterAll(() => tmp.cleanup());

  it('every packet outside 1970…9999 is a time-out-of-range anomaly; in-range files report none', async () => {
    const { file } = cleanTrace(tmp.dir, 'g.pcap');
    const packets = ngPackets(new Uint8Array(readFileSync(file)));
    for (const [offset, expected] of [[0n, 0], [9_000_000_000_000n, packets.length], [-1_795_000_100n, packets.length]] as const) {
      const ng = join(tmp.dir, `o${offset}.pcapng`);
      writeFileSync(ng, pcapngSection({ interfaces: [{ linkType: 1, tsoffsetS: offset }], packets: packets.map((p) => ({ ...p, ts: p.ts + offset * PS_PER_S })) }));
      const r = await runCli(['analyze', '--json', ng]);
      expect(r.code, r.stderr).toBe(0);
      const counted = ndjson(r.stdout).filter((e) => e.type === 'anomaly' && e.kind === 'time-out-of-range').reduce((n, e) => n + Number(e.count), 0);
      expect(counted, `offset ${offset}`).toBe(expected);
    }
  });
});
