import type { FlowInfo } from '../../decode/types.js';
import { streamAnomaly } from '../anomaly.js';
import { ChosenByFirstBytes } from '../first-bytes.js';
import { isTlsRecordStart, looksLikeTls } from '../tls-records.js';
import type { Emit, StreamDecoder } from '../types.js';
import { LibvirtAnomaly } from './anomaly-codes.js';
import { LibvirtDecoder, type TunnelDecoderFactory } from './decode.js';
import { LibvirtTlsDecoder } from './tls.js';

/** libvirt's TLS port: TLS there is expected, on any other it is reported. */
export const LIBVIRT_TLS_PORT = 16514;

/**
 * A libvirt connection: plaintext RPC, or TLS — the client's first three bytes are a
 * handshake record header, or on 16514 any record header (a capture begun
 * mid-connection). TLS is never decoded as RPC; on another port it is an anomaly too.
 * When the server's bytes come first (a capture begun mid-connection), they choose.
 */
export function libvirtConnectionDecoder(flow: FlowInfo, emit: Emit, openTunnel?: TunnelDecoderFactory): StreamDecoder {
  const onTlsPort = flow.server.port === LIBVIRT_TLS_PORT;
  const tls = (head: Uint8Array): boolean => looksLikeTls(head) || (onTlsPort && isTlsRecordStart(head));
  return new ChosenByFirstBytes(3, (head, ts) => {
    if (!tls(head)) return new LibvirtDecoder(flow, emit, openTunnel);
    if (!onTlsPort) emit(streamAnomaly(flow, 'c2s', LibvirtAnomaly.TLS_ON_PLAIN_PORT, ts));
    return new LibvirtTlsDecoder(flow, emit);
  }, () => new LibvirtDecoder(flow, emit, openTunnel),
  (first) => (onTlsPort && isTlsRecordStart(first) ? new LibvirtTlsDecoder(flow, emit) : new LibvirtDecoder(flow, emit, openTunnel)));
}
