import type { FlowInfo } from '../../decode/types.js';
import type { Emit, ProtocolAnalyzer, StreamDecoder } from '../types.js';
import { QemuStreamDecoder } from '../qemu/decode.js';
import { libvirtConnectionDecoder } from './connection.js';
import { isKnownProgram } from './programs.js';
import { LIBVIRT_HEADER_BYTES, LIBVIRT_MAX_MESSAGE } from './types.js';

/** libvirt RPC over plain TCP (16509), and over TLS (16514: records only, see ./tls.ts). */
export const libvirtAnalyzer: ProtocolAnalyzer = {
  name: 'libvirt',
  ports: [16509, 16514],
  /** A plausible length word followed by a known program number, version 1, a CALL. */
  probe(firstClientBytes: Uint8Array, _flow: FlowInfo): boolean {
    const b = firstClientBytes;
    if (b.length < 24) return false;
    const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
    const length = v.getUint32(0);
    return length >= LIBVIRT_HEADER_BYTES && length <= LIBVIRT_MAX_MESSAGE
      && isKnownProgram(v.getUint32(4)) && v.getUint32(8) === 1 && v.getInt32(16) === 0;
  },
  create(flow: FlowInfo, emit: Emit): StreamDecoder {
    // A tunnelled migration (VIR_MIGRATE_TUNNELLED): the QEMU stream inside the
    // connection's stream messages is decoded as such, its messages on this flow.
    return libvirtConnectionDecoder(flow, emit, () => new QemuStreamDecoder(flow, emit));
  },
};

export { LibvirtDecoder } from './decode.js';
