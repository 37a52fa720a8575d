import { describe, expect, it } from 'vitest';
import { widen } from '../../src/core/msgpack.js';
import { decodeMsgpackStream, MsgpackWriter } from '../../src/output/msgpack.js';
import { toNdjsonLine } from '../../src/output/ndjson.js';
import { formatSummary, secondsUs } from '../../src/output/summary.js';
import { LiveView } from '../../src/output/live-view.js';
import type { Summary } from '../../src/pipeline/analyze.js';
import { dur, kvmMigration, Trace, us } from '../phases/messages.js';
import { runEngine } from '../phases/run.js';

function migrationRun() {
  const tr = new Trace();
  kvmMigration(tr, { pingVm: '10.0.0.50' });
  return runEngine(tr.sorted());
}

describe('event outputs', () => {
  it('NDJSON: one event per line, picoseconds as exact decimal strings', () => {
    const { events } = migrationRun();
    const text = events.map(toNdjsonLine).join('');
    const lines = text.trimEnd().split('\n');
    expect(lines).toHaveLength(events.length);
    const ended = lines.map((l) => JSON.parse(l)).find((e) => e.type === 'migration-ended');
    expect(ended.libvirtTotal).toBe(dur(2997000).toString());
    expect(ended.phases.preparation.start).toBe(us(10000).toString());
    expect(BigInt(ended.ts)).toBe(us(2997000));
  });

  it('msgpack: durations as uint64, epoch picoseconds (> 2^64) as ext type 1, all round-trip', () => {
    const { events } = migrationRun();
    const chunks: Uint8Array[] = [];
    const w = new MsgpackWriter({ write: (c) => chunks.push(c) });
    events.forEach((e) => w.write(e));
    const back = decodeMsgpackStream(Buffer.concat(chunks)) as typeof events;
    expect(back).toEqual(events);
    // A duration is a plain uint64 (0xcf + 8 bytes): readers without the extension get it.
    const one = new MsgpackWriter({ write: (c) => chunks.splice(0, chunks.length, c) });
    one.write({ d: dur(1) });
    expect([...chunks[0]!]).toEqual([0x81, 0xa1, 0x64, 0xcf, 0, 0, 0, 0, 0, 0x0f, 0x42, 0x40]);
    one.write({ t: us(0) });
    // ext 8, 9 bytes (1.764e21 needs 71 bits), type 1
    expect([...chunks[0]!.subarray(3, 6)]).toEqual([0xc7, 9, 1]);
  });

  it('msgpack: widen() copies only the maps on the way to a wide timestamp, never the event it is given', () => {
    const { events } = migrationRun();
    const ended = events.find((e) => e.type === 'migration-ended')!;
    const before = structuredClone(ended);
    const w = widen(ended) as Record<string, unknown>;
    expect(w).not.toBe(ended); // ts is wider than 64 bits
    expect(ended).toEqual(before); // the event itself is left alone
    if (ended.type === 'migration-ended' && ended.stream) {
      // The stream's pause holds wide timestamps: copied; its byte counts fit: the pause's
      // own bounds (durations) stay numbers, and the event is untouched (above).
      const ws = w.stream as Record<string, unknown>;
      expect(ws).not.toBe(ended.stream);
      expect(ws.bytes).toBe(ended.stream.bytes);
      expect((ws.pause as Record<string, unknown>).min).toBe(ended.stream.pause!.min);
    }
    const small = { type: 'x', d: dur(5), list: [1, 2n, { n: 3n }] };
    expect(widen(small)).toBe(small);
  });

  it('summary table: Table 5.1 layout with µs precision and the downtime', () => {
    const { summary } = migrationRun();
    const text = formatSummary({ ...summary, sources: [] } as Summary);
    expect(text).toContain('m1  kvm  10.0.0.1 → 10.0.0.2  instance-00000001  outcome: completed');
    expect(text).toMatch(/Preparation\s+0\.010000\s+0\.590000/);
    expect(text).toMatch(/Migration time \(libvirt\)\s+2\.997000/);
    expect(text).toContain('downtime 21.000 ms (20 echo requests lost)');
    expect(secondsUs(1_500_000n)).toBe('0.000002');
  });

  it('live view: plain lines when not a TTY, ANSI redraw on a TTY', () => {
    const { events } = migrationRun();
    let plain = '';
    const v1 = new LiveView({ write: (s) => { plain += s; }, isTTY: false });
    events.forEach((e) => v1.onEvent(e));
    expect(plain).toContain('m1 preparation ended after 0.590000 s');
    expect(plain).not.toContain('\x1b[');
    let tty = '';
    const v2 = new LiveView({ write: (s) => { tty += s; }, isTTY: true, columns: 100 });
    events.forEach((e) => v2.onEvent(e));
    v2.close();
    expect(tty).toContain('\x1b[2K');
    expect(tty).toMatch(/\x1b\[\d+A/);
    expect(tty).toContain('[completed]');
  });
});
