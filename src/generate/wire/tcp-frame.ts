import {
  ETH_HEADER, ETHERTYPE_IPV4, foldChecksum, type Host, IPPROTO_TCP, IPV4_HEADER, onesSum, pseudoHeaderSum,
  writeEthernet, writeIpv4, writeU16, writeU32,
} from './ethernet-ip.js';

export const TCP_FIN = 0x01;
export const TCP_SYN = 0x02;
export const TCP_RST = 0x04;
export const TCP_PSH = 0x08;
export const TCP_ACK = 0x10;

/** Payload per full segment: MSS 1460 minus the 12-byte timestamp option, as Linux sends. */
export const SEGMENT_PAYLOAD = 1448;
/** Window scale we announce: 2^10, so a window field of 0xffff is 64 MiB, never full at 100 Gbit/s. */
export const WINDOW_SCALE = 10;

export interface TcpSegmentFields {
  src: Host;
  dst: Host;
  srcPort: number;
  dstPort: number;
  seq: number;
  ack: number;
  flags: number;
  window: number;
  ipId: number;
  /** TCP timestamp option (TSval, TSecr). */
  tsval: number;
  tsecr: number;
}

/** One payload piece copied into the segment (keeps offsets, no intermediate concat). */
export interface PayloadPiece {
  bytes: Uint8Array;
  offset: number;
  length: number;
}

/**
 * A complete Ethernet/IPv4/TCP frame with valid IP and TCP checksums. SYNs carry MSS,
 * SACK-permitted, timestamps and window scale (40-byte header); other segments carry
 * the timestamp option (32-byte header).
 */
export function buildTcpFrame(f: TcpSegmentFields, pieces: readonly PayloadPiece[], payloadLength: number): Uint8Array {
  const syn = (f.flags & TCP_SYN) !== 0;
  const tcpHeader = syn ? 40 : 32;
  const l4 = tcpHeader + payloadLength;
  const frame = new Uint8Array(ETH_HEADER + IPV4_HEADER + l4);
  writeEthernet(frame, f.dst.macBytes, f.src.macBytes, ETHERTYPE_IPV4);
  writeIpv4(frame, f.src, f.dst, IPPROTO_TCP, IPV4_HEADER + l4, f.ipId);
  const o = ETH_HEADER + IPV4_HEADER;
  writeU16(frame, o, f.srcPort);
  writeU16(frame, o + 2, f.dstPort);
  writeU32(frame, o + 4, f.seq >>> 0);
  writeU32(frame, o + 8, (f.flags & TCP_ACK) !== 0 ? f.ack >>> 0 : 0);
  frame[o + 12] = (tcpHeader / 4) << 4;
  frame[o + 13] = f.flags;
  writeU16(frame, o + 14, f.window);
  // checksum (o+16) and urgent pointer (o+18) start at zero.
  let p = o + 20;
  if (syn) {
    frame[p++] = 2; frame[p++] = 4; writeU16(frame, p, 1460); p += 2; // MSS
    frame[p++] = 4; frame[p++] = 2; // SACK permitted
    frame[p++] = 8; frame[p++] = 10; writeU32(frame, p, f.tsval); writeU32(frame, p + 4, f.tsecr); p += 8;
    frame[p++] = 1; // NOP
    frame[p++] = 3; frame[p++] = 3; frame[p++] = WINDOW_SCALE;
  } else {
    frame[p++] = 1; frame[p++] = 1;
    frame[p++] = 8; frame[p++] = 10; writeU32(frame, p, f.tsval); writeU32(frame, p + 4, f.tsecr); p += 8;
  }
  for (const piece of pieces) {
    frame.set(piece.bytes.subarray(piece.offset, piece.offset + piece.length), p);
    p += piece.length;
  }
  const sum = onesSum(frame, o, o + l4, pseudoHeaderSum(f.src, f.dst, IPPROTO_TCP, l4));
  const c = foldChecksum(sum);
  frame[o + 16] = c >> 8;
  frame[o + 17] = c & 0xff;
  return frame;
}
