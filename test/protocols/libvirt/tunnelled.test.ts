/**
 * A tunnelled migration (VIR_MIGRATE_TUNNELLED): the QEMU stream travels in the libvirt
 * connection as VIR_NET_STREAM messages of DOMAIN_MIGRATE_PREPARE_TUNNEL3_PARAMS. The
 * libvirt decoder hands their bodies to a QEMU stream decoder: the same messages as the
 * stream on a connection of its own (QemuStreamBuilder's truth), on the libvirt flow.
 */
import { describe, expect, it } from 'vitest';
import type { FlowInfo } from '../../../src/decode/types.js';
import { libvirtAnalyzer } from '../../../src/protocols/libvirt/index.js';
import { QemuStreamDecoder } from '../../../src/protocols/qemu/decode.js';
import type { ProtocolMessage } from '../../../src/protocols/types.js';
import { sampleStream } from '../qemu/stream-builder.js';
import { rpcMessage } from './rpc-builder.js';

const flow: FlowInfo = {
  id: 3, transport: 'tcp', client: { ip: '10.0.0.1', port: 40000 }, server: { ip: '10.0.0.2', port: 16509 }, midstream: false,
};
const PREPARE_TUNNEL3_PARAMS = 304;
const STREAM = 3;

/** The stream's bytes in stream messages of `size` bytes each (status continue), then the finishing one (status ok). */
function tunnel(stream: Uint8Array, size: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let off = 0; off < stream.length; off += size) {
    out.push(rpcMessage({ procedure: PREPARE_TUNNEL3_PARAMS, type: STREAM, serial: 9, status: 2 }, stream.subarray(off, off + size)));
  }
  out.push(rpcMessage({ procedure: PREPARE_TUNNEL3_PARAMS, type: STREAM, serial: 9, status: 0 }));
  return out;
}

function strip(m: ProtocolMessage): unknown {
  const { ts: _ts, tsEnd: _te, ...rest } = m;
  return rest;
}

describe('tunnelled migration: the QEMU stream inside libvirt stream messages', () => {
  const stream = sampleStream().build();
  const direct: ProtocolMessage[] = [];
  const d0 = new QemuStreamDecoder(flow, (m) => direct.push(m));
  d0.data('c2s', stream, 1n);
  d0.end('c2s', 2n);

  for (const size of [1, 100, 4096, 65536]) {
    it(`decoded as the same QEMU stream (messages of ${size} bytes, fed in odd chunks)`, () => {
      const out: ProtocolMessage[] = [];
      const d = libvirtAnalyzer.create(flow, (m) => out.push(m));
      const wire = tunnel(stream, size);
      let t = 10n;
      for (const msg of wire) for (let i = 0; i < msg.length; i += 333) d.data('c2s', msg.subarray(i, i + 333), t++);
      const qemu = out.filter((m) => m.protocol === 'qemu');
      expect(out.filter((m) => m.protocol === 'anomaly')).toEqual([]);
      expect(qemu.map(strip)).toEqual(direct.map(strip));
      expect(out.filter((m) => m.protocol === 'libvirt' && m.kind === 'stream')).toHaveLength(wire.length);
    });
  }

  it('a tunnel closed before QEMU_VM_EOF: the cut stream is reported (bytes it got through)', () => {
    const out: ProtocolMessage[] = [];
    const d = libvirtAnalyzer.create(flow, (m) => out.push(m));
    const half = stream.subarray(0, 200);
    for (const msg of tunnel(half, 64)) d.data('c2s', msg, 5n);
    const cut = out.find((m) => m.protocol === 'qemu' && m.kind === 'cut');
    expect(cut).toMatchObject({ streamBytes: 200 });
  });
});
