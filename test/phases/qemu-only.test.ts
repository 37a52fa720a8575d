/**
 * A QEMU migration driven over QMP alone (`migrate tcp:HOST:PORT`, no libvirt): the
 * engine knows it from the stream's QEVM header and reports a migration whose timeline
 * is the Transfer phase (stream SYN → first FIN), the switch-over, the stream summary,
 * and an outcome from QEMU_VM_EOF / RST / close. Timestamps are chosen by hand, so the
 * expected boundaries are known exactly. (Real QEMU: test/real/qemu-migration.test.ts.)
 */
import { describe, expect, it } from 'vitest';
import type { Endpoint } from '../../src/decode/types.js';
import { dur, kvmMigration, pings, Trace, us } from './messages.js';
import { ended, phaseEnded, runEngine } from './run.js';

const SRC: Endpoint = { ip: '192.168.5.1', port: 51000 };
const DST: Endpoint = { ip: '192.168.5.2', port: 4444 };

interface StreamPlan {
  at?: number;
  /** How the stream ends: EOF then the source's FIN, RST or FIN before EOF, or not at all. */
  end?: 'eof' | 'rst' | 'fin-no-eof' | 'eof-no-fin' | 'none';
  synLost?: boolean;
  /** The decoder had stopped: no summary follows the closing marker. */
  noCutSummary?: boolean;
}

/** SYN at `at`, header 200 µs later, 2 passes, switch-over at +1.5 s, EOF at +1.6 s, FIN at +1.7 s. */
function qmpStream(tr: Trace, plan: StreamPlan = {}, src = SRC, dst = DST): void {
  const a = plan.at ?? 0;
  const f = tr.flow();
  if (!plan.synLost) tr.tcp(a, f, 'syn', src, dst);
  tr.tcp(a + 50, f, 'syn-ack', dst, src, 's2c');
  tr.qemu(a + 200, f, src, dst, { kind: 'header', version: 3, streamBytes: 8 });
  tr.qemu(a + 300, f, src, dst, { kind: 'pass-started', iteration: 1, streamBytes: 100 });
  tr.qemu(a + 500_000, f, src, dst, { kind: 'ram-chunk', iteration: 1, pages: 100, passBytes: 400_000, streamBytes: 400_100 });
  tr.qemu(a + 900_000, f, src, dst, { kind: 'pass-started', iteration: 2, streamBytes: 800_000 });
  tr.qemu(a + 1_000_000, f, src, dst, { kind: 'ram-chunk', iteration: 2, pages: 50, passBytes: 200_000, streamBytes: 1_000_000 });
  if (plan.end === 'none') return;
  tr.qemu(a + 1_500_000, f, src, dst, { kind: 'switchover', iterations: 2, precopyBytes: 1_000_000, streamBytes: 1_000_000 });
  // The decoder's summary of a stream cut before QEMU_VM_EOF follows the closing marker.
  const cut = { kind: 'cut', iterations: 3, precopyBytes: 1_000_000, stopCopyBytes: 20_000, passBytes: [800_000, 200_000, 20_000], streamBytes: 1_020_000, normalPages: 300, zeroPages: 10 } as const;
  if (plan.end === 'rst') {
    tr.tcp(a + 1_550_000, f, 'rst', src, dst);
    if (!plan.noCutSummary) tr.qemu(a + 1_550_000, f, src, dst, cut);
    return;
  }
  if (plan.end !== 'fin-no-eof') {
    tr.qemu(a + 1_600_000, f, src, dst, {
      kind: 'eof', iterations: 3, precopyBytes: 1_000_000, stopCopyBytes: 300_000, passBytes: [800_000, 200_000, 200_000], streamBytes: 1_300_000,
    });
  }
  if (plan.end === 'eof-no-fin') return;
  tr.tcp(a + 1_700_000, f, 'fin', src, dst);
  if (plan.end === 'fin-no-eof' && !plan.noCutSummary) tr.qemu(a + 1_700_000, f, src, dst, { ...cut, stopCopyBytes: 0, precopyBytes: 1_020_000 });
  tr.tcp(a + 1_700_100, f, 'fin', dst, src, 's2c');
}

describe('phase engine: a QEMU stream without libvirt (QMP migrate)', () => {
  it('one Transfer phase from the SYN to the first FIN, the switch-over, the stream summary, completed', () => {
    const tr = new Trace();
    qmpStream(tr);
    pings(tr, '192.168.5.50', 1_400_000, 1_700_000, 1_495_000, 1_520_000);
    const { events, emittedAt, summary } = runEngine(tr.sorted());
    const started = events.find((e) => e.type === 'migration-started');
    expect(started).toMatchObject({ migration: 'm1', ts: us(0), scenario: 'kvm', source: SRC.ip, destination: DST.ip });
    // Events leave at the header (the first stream record), carrying the SYN's time.
    const header = tr.sorted().findIndex((m) => m.protocol === 'qemu' && m.kind === 'header');
    expect(emittedAt[events.indexOf(started!)]).toBe(header);
    const transfer = phaseEnded(events, 'm1', 'transfer')!;
    expect(transfer).toMatchObject({ ts: us(1_700_000), duration: dur(1_700_000) });
    expect(transfer.uncertain).toBeUndefined();
    expect(events.filter((e) => e.type === 'phase-started').map((e) => 'phase' in e && e.phase)).toEqual(['transfer']);
    expect(events.filter((e) => e.type === 'switchover')).toEqual([
      { type: 'switchover', migration: 'm1', ts: us(1_500_000), iterations: 2, precopyBytes: 1_000_000 },
    ]);
    const end = ended(events, 'm1')!;
    expect(end).toMatchObject({ outcome: 'completed', ts: us(1_700_000), total: dur(1_700_000), downtime: dur(26_000) });
    expect(end.libvirtTotal).toBeUndefined();
    expect(end.phases).toEqual({ transfer: { start: us(0), end: us(1_700_000) } });
    expect(end.stream).toEqual({
      bytes: 1_300_000, iterations: 3, precopyBytes: 1_000_000, stopCopyBytes: 300_000,
      pause: { start: us(1_500_000), end: us(1_600_000), min: dur(100_000), max: dur(600_000) },
    });
    // Closed at the FIN, not at the end of input.
    expect(emittedAt[events.indexOf(end)]).toBeGreaterThanOrEqual(0);
    expect(summary.migrations).toHaveLength(1);
  });

  it('RST before QEMU_VM_EOF: failed; FIN before it: cancelled', () => {
    for (const [how, outcome, reason] of [
      ['rst', 'failed', 'migration stream reset (RST) before QEMU_VM_EOF'],
      ['fin-no-eof', 'cancelled', 'migration stream closed before QEMU_VM_EOF'],
    ] as const) {
      const tr = new Trace();
      qmpStream(tr, { end: how });
      const { events } = runEngine(tr.sorted());
      const end = ended(events, 'm1')!;
      expect(end, how).toMatchObject({ outcome, reason });
      expect(end.phases.transfer!.end).toBe(us(how === 'rst' ? 1_550_000 : 1_700_000));
      // Still the figures the stream got through, from the summary after the marker.
      expect(end.stream, how).toEqual(how === 'rst'
        ? { bytes: 1_020_000, iterations: 3, precopyBytes: 1_000_000, stopCopyBytes: 20_000 }
        : { bytes: 1_020_000, iterations: 3, precopyBytes: 1_020_000, stopCopyBytes: 0 });
      expect(end.ts).toBe(end.phases.transfer!.end);
    }
  });

  it('a cut stream whose decoder had stopped: closed at its marker when the next message comes, without figures', () => {
    const tr = new Trace();
    qmpStream(tr, { end: 'fin-no-eof', noCutSummary: true });
    pings(tr, '192.168.5.50', 1_800_000, 1_900_000, 2_000_000, 2_000_000);
    const { events, emittedAt } = runEngine(tr.sorted());
    const end = ended(events, 'm1')!;
    expect(end).toMatchObject({ outcome: 'cancelled', ts: us(1_700_000) });
    expect(end.stream).toBeUndefined();
    // Closed while the next message (the first ping) was pushed, not at end of input.
    expect(emittedAt[events.indexOf(end)]).toBeGreaterThanOrEqual(0);
    const alone = new Trace();
    qmpStream(alone, { end: 'fin-no-eof', noCutSummary: true });
    expect(ended(runEngine(alone.sorted()).events, 'm1')).toMatchObject({ outcome: 'cancelled', ts: us(1_700_000) });
  });

  it('end of input: after QEMU_VM_EOF completed with Transfer an upper bound; before it incomplete', () => {
    const eofOnly = new Trace();
    qmpStream(eofOnly, { end: 'eof-no-fin' });
    const done = ended(runEngine(eofOnly.sorted()).events, 'm1')!;
    expect(done.outcome).toBe('completed');
    expect(done.phases.transfer!.end).toBe(us(1_600_000));
    expect(done.phases.transfer!.uncertain).toMatch(/upper bound/);
    const cut = new Trace();
    qmpStream(cut, { end: 'none' });
    expect(ended(runEngine(cut.sorted()).events, 'm1')).toMatchObject({ outcome: 'incomplete' });
  });

  it('SYN not captured: Transfer starts at the SYN-ACK, flagged as a lower bound', () => {
    const tr = new Trace();
    qmpStream(tr, { synLost: true });
    const { events } = runEngine(tr.sorted());
    expect(ended(events, 'm1')!.phases.transfer).toMatchObject({ start: us(50), end: us(1_700_000), uncertain: expect.stringMatching(/lower bound/) });
  });

  it('back-to-back streams are two migrations; streams of a libvirt migration stay its own', () => {
    const tr = new Trace();
    qmpStream(tr, { at: 0 });
    qmpStream(tr, { at: 3_000_000 }, { ...SRC, port: 51001 });
    kvmMigration(tr, { at: 6_000_000 });
    const { events, summary } = runEngine(tr.sorted());
    expect(summary.migrations.map((m) => [m.source, Object.keys(m.ended.phases).join()])).toEqual([
      [SRC.ip, 'transfer'], [SRC.ip, 'transfer'],
      ['10.0.0.1', 'remote-connect,preparation,transfer,finish,cleanup'],
    ]);
    expect(phaseEnded(events, 'm2', 'transfer')!.duration).toBe(dur(1_700_000));
    expect(phaseEnded(events, 'm3', 'transfer')!.duration).toBe(dur(2_569_000 - 601_000));
  });

  it('a stream from a host whose libvirt migration is open is not made a migration of its own', () => {
    const tr = new Trace();
    kvmMigration(tr, { at: 0 });
    // A second stream from the libvirt source while its migration is still open.
    qmpStream(tr, { at: 2_000_000 }, { ip: '10.0.0.1', port: 52000 }, { ip: '10.0.0.2', port: 49153 });
    const { summary } = runEngine(tr.sorted());
    expect(summary.migrations).toHaveLength(1);
    expect(summary.migrations[0]!.ended.phases.transfer).toEqual({ start: us(601_000), end: us(2_569_000) });
  });
});
