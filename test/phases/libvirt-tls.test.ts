/**
 * A libvirt migration whose connection is TLS (qemu+tls://, 16514) in the phase engine:
 * the RPC cannot be read, the phases come from the round trips of records, each
 * boundary marked inferred. The record sizes and order are those of a real libvirt 9.0
 * p2p migration (test/real/libvirt-modes.test.ts checks the rule on the real capture
 * against the decrypted RPC); the times are chosen by hand.
 */
import { describe, expect, it } from 'vitest';
import type { Endpoint } from '../../src/decode/types.js';
import { dur, Trace, us } from './messages.js';
import { ended, runEngine } from './run.js';

const LC: Endpoint = { ip: '192.168.7.1', port: 41046 };
const LS: Endpoint = { ip: '192.168.7.2', port: 16514 };
const QC: Endpoint = { ip: '192.168.7.1', port: 43202 };
const QS: Endpoint = { ip: '192.168.7.2', port: 49152 };

/** libvirt 9.0's p2p conversation: [call bytes, reply bytes] after the check byte, up to prepare3. */
const OPENING: readonly [number, number][] = [[28, 36], [32, 32], [56, 28], [32, 32], [32, 32], [28, 28], [32, 32], [32, 32], [32, 32]];

function tlsMigration(opts: { stream?: boolean; keepalives?: boolean } = {}): Trace {
  const tr = new Trace();
  const lf = tr.flow();
  tr.tcp(0, lf, 'syn', LC, LS);
  tr.tlsRecord(3000, lf, false, LC, LS, 1); // libvirt's certificate check byte
  let t = 3100;
  for (const [call, reply] of OPENING) {
    tr.tlsRecord(t, lf, true, LC, LS, call);
    tr.tlsRecord(t + 60, lf, false, LC, LS, reply);
    t += 100;
  }
  tr.tlsRecord(14_000, lf, true, LC, LS, 2108); // prepare3
  tr.tlsRecord(1_222_000, lf, false, LC, LS, 756);
  if (opts.stream !== false) {
    const sf = tr.flow();
    tr.tcp(1_272_000, sf, 'syn', QC, QS);
    tr.qemu(1_272_100, sf, QC, QS, { kind: 'header', version: 3, streamBytes: 8 });
    if (opts.keepalives) {
      tr.tlsRecord(1_300_000, lf, true, LC, LS, 28); // PING
      tr.tlsRecord(1_300_100, lf, false, LC, LS, 28); // PONG
    }
    tr.qemu(1_340_000, sf, QC, QS, {
      kind: 'switchover', iterations: 1, precopyBytes: 580_000, mechanism: 'stop-and-copy', streamBytes: 580_005,
    });
    tr.qemu(1_343_000, sf, QC, QS, {
      kind: 'eof', iterations: 2, precopyBytes: 580_000, stopCopyBytes: 20_000, ramStopCopyBytes: 18, passBytes: [580_000, 18], streamBytes: 600_000,
    });
    tr.tcp(1_344_000, sf, 'fin', QC, QS);
    tr.tlsRecord(1_349_000, lf, true, LC, LS, 3596); // finish3
    if (opts.keepalives) tr.tlsRecord(1_360_000, lf, false, LC, LS, 28); // a PING from the server: not the reply
    tr.tlsRecord(1_406_000, lf, false, LC, LS, 1212);
  }
  tr.tlsRecord(2_831_000, lf, true, LC, LS, 28);
  tr.tlsRecord(2_831_300, lf, false, LC, LS, 28);
  tr.tcp(2_837_000, lf, 'fin', LS, LC, 's2c');
  return tr;
}

describe('phase engine: libvirt over TLS', () => {
  it('phases from the round trips: connect-open reply, prepare3 and finish3 by size, each inferred', () => {
    const { events } = runEngine(tlsMigration().sorted());
    const e = ended(events, 'm1')!;
    expect(e.outcome).toBe('completed');
    expect(e.phases['remote-connect']).toMatchObject({ start: us(0), end: us(3100 + 2 * 100 + 60) });
    expect(e.phases.preparation).toMatchObject({ start: us(14_000), end: us(1_222_000) });
    expect(e.phases.transfer).toMatchObject({ start: us(1_272_000), end: us(1_344_000) });
    expect(e.phases.finish).toMatchObject({ start: us(1_349_000), end: us(1_406_000) });
    expect(e.phases.cleanup).toMatchObject({ start: us(1_406_000), end: us(2_837_000) });
    // Inferred: remote-connect's end, preparation and finish; the SYN, the stream and the FIN are seen.
    expect(e.phases['remote-connect']!.inferred).toEqual({ end: expect.objectContaining({ how: expect.stringMatching(/connect-open/) }) });
    // Error bound: how far the neighbouring record of the same side lies.
    expect(e.phases.preparation!.inferred!.start!.errorBound).toBe(dur(14_000 - 3900));
    expect(e.phases.preparation!.inferred!.end!.errorBound).toBe(dur(1_222_000 - 3960));
    expect(e.phases.finish!.inferred!.start!.errorBound).toBe(dur(1_349_000 - 14_000));
    expect(e.phases.transfer!.inferred).toBeUndefined();
    expect(e.stream?.iterations).toBe(2);
  });

  it('keepalive PING/PONG (28-byte messages) are not taken for a round trip of the migration', () => {
    const { events } = runEngine(tlsMigration({ keepalives: true }).sorted());
    const e = ended(events, 'm1')!;
    expect(e.outcome).toBe('completed');
    expect(e.phases.finish).toMatchObject({ start: us(1_349_000), end: us(1_406_000) });
  });

  it('a prepare3 round trip that no stream follows: failed (its reply cannot be read), cleanup to the FIN', () => {
    const { events } = runEngine(tlsMigration({ stream: false }).sorted());
    const e = ended(events, 'm1')!;
    expect(e.outcome).toBe('failed');
    expect(e.reason).toMatch(/no migration stream followed the prepare3/);
    expect(e.phases.preparation).toMatchObject({ start: us(14_000), end: us(1_222_000) });
    expect(e.phases.cleanup).toMatchObject({ start: us(1_222_000), end: us(2_837_000) });
    expect(e.phases.transfer).toBeUndefined();
  });

  it('a TLS connection to 16514 that never makes a large call is no migration', () => {
    const tr = new Trace();
    const lf = tr.flow();
    tr.tcp(0, lf, 'syn', LC, LS);
    tr.tlsRecord(3000, lf, false, LC, LS, 1);
    for (let i = 0; i < 20; i++) {
      tr.tlsRecord(4000 + i * 100, lf, true, LC, LS, 40);
      tr.tlsRecord(4050 + i * 100, lf, false, LC, LS, 300);
    }
    tr.tcp(9000, lf, 'fin', LC, LS);
    const { events } = runEngine(tr.sorted());
    expect(events.filter((e) => e.type === 'migration-ended')).toEqual([]);
  });
});
