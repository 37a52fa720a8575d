import type { FlowInfo } from '../../decode/types.js';
import type { Emit, ProtocolAnalyzer, StreamDecoder } from '../types.js';
import { qemuChannelDecoder } from './channel.js';
import { MULTIFD_MAGIC, QEMU_VM_FILE_MAGIC } from './types.js';

/** libvirt's default migration port range (qemu.conf migration_port_min..max). */
const MIGRATION_PORTS: readonly number[] = Array.from({ length: 64 }, (_, i) => 49152 + i);

/** The QEMU migration stream ('QEVM') and its multifd channels (0x11223344), on any port. */
export const qemuAnalyzer: ProtocolAnalyzer = {
  name: 'qemu',
  ports: MIGRATION_PORTS,
  probe(firstClientBytes: Uint8Array, _flow: FlowInfo): boolean {
    const b = firstClientBytes;
    if (b.length < 4) return false;
    const magic = ((b[0]! << 24) | (b[1]! << 16) | (b[2]! << 8) | b[3]!) >>> 0;
    return magic === QEMU_VM_FILE_MAGIC || magic === MULTIFD_MAGIC;
  },
  create(flow: FlowInfo, emit: Emit): StreamDecoder {
    return qemuChannelDecoder(flow, emit);
  },
};

export { QemuStreamDecoder } from './decode.js';
export { MultifdChannelDecoder } from './multifd.js';
