import { describe, expect, it } from 'vitest';
import type { FlowInfo } from '../../../src/decode/types.js';
import { libvirtAnalyzer } from '../../../src/protocols/libvirt/index.js';
import type { LibvirtTlsRecord, ProtocolMessage } from '../../../src/protocols/types.js';

const flow = (port: number): FlowInfo => ({
  id: 9, transport: 'tcp', client: { ip: '10.0.0.1', port: 41046 }, server: { ip: '10.0.0.2', port }, midstream: false,
});

function record(type: number, body: number[]): number[] {
  return [type, 3, 3, body.length >> 8, body.length & 0xff, ...body];
}
const fill = (n: number): number[] => new Array<number>(n).fill(0x5a);

/** ServerHello (TLS 1.3: supported_versions 0x0304), suite TLS_AES_256_GCM_SHA384. */
function serverHello(): number[] {
  const ext = [0, 43, 0, 2, 3, 4];
  const body = [3, 3, ...fill(32), 32, ...fill(32), 0x13, 0x02, 0, ext.length >> 8, ext.length & 0xff, ...ext];
  return record(22, [2, 0, body.length >> 8, body.length & 0xff, ...body]);
}

/** A TLS 1.3 connection as libvirt 9.0 and GnuTLS make it, then two RPC round trips. */
function conversation(): { dir: 'c2s' | 's2c'; bytes: number[] }[] {
  return [
    { dir: 'c2s', bytes: record(22, fill(363)) }, // ClientHello
    { dir: 's2c', bytes: [...serverHello(), ...record(20, [1]), ...record(23, fill(29)), ...record(23, fill(493)), ...record(23, fill(69))] },
    { dir: 'c2s', bytes: [...record(20, [1]), ...record(23, fill(493)), ...record(23, fill(69))] }, // the client's Finished flight
    { dir: 's2c', bytes: record(23, fill(18)) }, // the check byte
    { dir: 'c2s', bytes: record(23, fill(45)) }, // auth-list, 28 bytes
    { dir: 's2c', bytes: record(23, fill(53)) },
    { dir: 'c2s', bytes: record(23, fill(2125)) }, // prepare3
    { dir: 's2c', bytes: record(23, fill(773)) },
  ];
}

function decode(port: number, chunk: number): ProtocolMessage[] {
  const out: ProtocolMessage[] = [];
  const d = libvirtAnalyzer.create(flow(port), (m) => out.push(m));
  let t = 0n;
  for (const seg of conversation()) {
    for (let i = 0; i < seg.bytes.length; i += chunk) d.data(seg.dir, Uint8Array.from(seg.bytes.slice(i, i + chunk)), t++);
  }
  d.end('c2s', t);
  return out;
}

describe('libvirt over TLS: records, never RPC', () => {
  it('reports the records after the handshake with their plaintext size, at any chunking', () => {
    for (const chunk of [1, 2, 7, 100, 5000]) {
      const out = decode(16514, chunk);
      expect(out.filter((m) => m.protocol === 'anomaly'), `chunks of ${chunk}`).toEqual([]);
      const recs = out as LibvirtTlsRecord[];
      expect(recs.map((r) => [r.kind, r.fromClient, r.recordLength, r.plaintext])).toEqual([
        ['tls-record', false, 18, 1], ['tls-record', true, 45, 28], ['tls-record', false, 53, 36],
        ['tls-record', true, 2125, 2108], ['tls-record', false, 773, 756],
      ]);
      expect(recs[1]!.src).toEqual(flow(16514).client);
      expect(recs[2]!.src).toEqual(flow(16514).server);
    }
  });

  it('a client that sends its ChangeCipherSpec early (before the server flight ends): the check byte still marks the end of the handshake', () => {
    const out: ProtocolMessage[] = [];
    const d = libvirtAnalyzer.create(flow(16514), (m) => out.push(m));
    const steps: { dir: 'c2s' | 's2c'; bytes: number[] }[] = [
      { dir: 'c2s', bytes: record(22, fill(363)) },
      { dir: 's2c', bytes: [...serverHello(), ...record(20, [1])] },
      { dir: 'c2s', bytes: record(20, [1]) },
      { dir: 's2c', bytes: [...record(23, fill(29)), ...record(23, fill(493)), ...record(23, fill(69))] },
      { dir: 'c2s', bytes: [...record(23, fill(493)), ...record(23, fill(69))] },
      { dir: 's2c', bytes: [...record(23, fill(200)), ...record(23, fill(18))] }, // a session ticket, then the check byte
      { dir: 'c2s', bytes: record(23, fill(45)) },
    ];
    steps.forEach((st, i) => d.data(st.dir, Uint8Array.from(st.bytes), BigInt(i)));
    expect(out.map((m) => m.protocol === 'libvirt' && m.kind === 'tls-record' && [m.fromClient, m.plaintext])).toEqual([[false, 1], [true, 28]]);
  });

  it('TLS on the plaintext port (16509): an anomaly, the records still counted, no RPC decode', () => {
    const out = decode(16509, 64);
    const anomalies = out.filter((m) => m.protocol === 'anomaly');
    expect(anomalies.map((a) => a.protocol === 'anomaly' && a.code)).toEqual(['LIBVIRT_TLS_ON_PLAIN_PORT']);
    expect(out.filter((m) => m.protocol === 'libvirt').every((m) => m.protocol === 'libvirt' && m.kind === 'tls-record')).toBe(true);
  });

  it('a capture begun after the handshake: the first application-data record starts the report', () => {
    const out: ProtocolMessage[] = [];
    const d = libvirtAnalyzer.create({ ...flow(16514), midstream: true }, (m) => out.push(m));
    d.data('s2c', Uint8Array.from(record(23, fill(60))), 1n);
    d.data('c2s', Uint8Array.from(record(23, fill(45))), 2n);
    expect(out.map((m) => m.protocol === 'libvirt' && m.kind === 'tls-record' && [m.fromClient, m.recordLength, m.plaintext])).toEqual([
      [false, 60, undefined], [true, 45, undefined],
    ]);
  });
});
