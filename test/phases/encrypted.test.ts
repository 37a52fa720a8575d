/**
 * An encrypted (QEMU native TLS) migration stream in the phase engine: nothing of the
 * stream is readable, so Transfer comes from the connection's SYN and FIN, each boundary
 * marked inferred with its error bound from the TLS record timing, and the figures are
 * the connection's bytes. Hand-built messages with chosen timestamps.
 */
import { describe, expect, it } from 'vitest';
import type { Endpoint } from '../../src/decode/types.js';
import { dur, Trace, us } from './messages.js';
import { ended, phaseEnded, runEngine } from './run.js';

const SRC: Endpoint = { ip: '192.168.7.1', port: 51000 };
const DST: Endpoint = { ip: '192.168.7.2', port: 49152 };

function tlsStream(bytes: number): Trace {
  const tr = new Trace();
  const f = tr.flow();
  tr.tcp(0, f, 'syn', SRC, DST);
  tr.qemu(200, f, SRC, DST, { kind: 'encrypted', transport: 'tls', streamBytes: 0 });
  tr.tcp(3_000_000, f, 'fin', SRC, DST);
  tr.qemu(3_000_000, f, SRC, DST, {
    kind: 'encrypted-end', transport: 'tls', streamBytes: bytes, returnBytes: 954, records: 4000,
    firstData: us(40_000), lastData: us(2_999_000),
  });
  tr.tcp(3_000_100, f, 'fin', DST, SRC, 's2c');
  return tr;
}

describe('phase engine: an encrypted (TLS) migration stream', () => {
  it('Transfer from SYN to FIN, both ends inferred with their error bounds, bytes from the connection', () => {
    const { events } = runEngine(tlsStream(9_000_000).sorted());
    const started = events.find((e) => e.type === 'phase-started');
    expect(started).toMatchObject({ phase: 'transfer', ts: us(0), inferred: { errorBound: dur(40_000) } });
    const t = phaseEnded(events, 'm1', 'transfer')!;
    expect(t).toMatchObject({ ts: us(3_000_000), duration: dur(3_000_000), inferred: { errorBound: dur(1_000) } });
    const e = ended(events, 'm1')!;
    expect(e.outcome).toBe('completed');
    expect(e.stream).toBeUndefined();
    expect(e.encrypted).toEqual({ transport: 'tls', bytes: 9_000_000, returnBytes: 954, records: 4000 });
    expect(e.phases.transfer).toMatchObject({
      start: us(0), end: us(3_000_000), inferred: { start: { errorBound: dur(40_000) }, end: { errorBound: dur(1_000) } },
    });
  });

  it('a small TLS connection on a migration port is not reported as a migration', () => {
    const { events, summary } = runEngine(tlsStream(200_000).sorted());
    expect(events).toEqual([]);
    expect(summary.migrations).toEqual([]);
  });
});
