import type { FlowInfo } from '../../decode/types.js';
import { ChosenByFirstBytes } from '../first-bytes.js';
import type { Emit, StreamDecoder } from '../types.js';
import { QemuStreamDecoder } from './decode.js';
import { MultifdChannelDecoder } from './multifd.js';
import { EncryptedChannelDecoder, looksLikeTls } from './tls.js';
import { MULTIFD_MAGIC } from './types.js';

/**
 * A connection to a migration port: the main stream ('QEVM'), a multifd channel
 * (0x11223344) or TLS (a handshake record), told apart by the first four bytes the
 * source sends. A gap or end before those: the main stream's decoder reports it.
 */
export function qemuChannelDecoder(flow: FlowInfo, emit: Emit): StreamDecoder {
  return new ChosenByFirstBytes(4, (head, ts) =>
    // TLS (QEMU native TLS on a migration port): counted, never walked as plaintext.
    looksLikeTls(head) ? new EncryptedChannelDecoder(flow, ts, emit)
      : magicOf(head) === MULTIFD_MAGIC ? new MultifdChannelDecoder(flow, emit) : new QemuStreamDecoder(flow, emit),
  () => new QemuStreamDecoder(flow, emit));
}

function magicOf(b: Uint8Array): number {
  return ((b[0]! << 24) | (b[1]! << 16) | (b[2]! << 8) | b[3]!) >>> 0;
}
