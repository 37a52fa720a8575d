/**
 * Ethernet II + IPv4 framing with real checksums. Frames are built in one allocation
 * per packet: the capture writer may keep a reference until it has copied the bytes.
 */

export interface Host {
  /** Dotted quad. */
  ip: string;
  mac: string;
  /** Parsed forms, filled by host(). */
  ipNum: number;
  macBytes: Uint8Array;
}

export function host(ip: string, mac: string): Host {
  return { ip, mac, ipNum: parseIpv4(ip), macBytes: parseMacAddr(mac) };
}

export function parseIpv4(ip: string): number {
  const p = ip.split('.').map(Number);
  if (p.length !== 4 || p.some((x) => !Number.isInteger(x) || x < 0 || x > 255)) throw new RangeError(`bad IPv4 address ${ip}`);
  return ((p[0]! << 24) | (p[1]! << 16) | (p[2]! << 8) | p[3]!) >>> 0;
}

export function parseMacAddr(mac: string): Uint8Array {
  const p = mac.split(':').map((x) => parseInt(x, 16));
  if (p.length !== 6 || p.some((x) => !Number.isInteger(x) || x < 0 || x > 255)) throw new RangeError(`bad MAC address ${mac}`);
  return Uint8Array.from(p);
}

export const ETH_HEADER = 14;
export const IPV4_HEADER = 20;
export const ETHERTYPE_IPV4 = 0x0800;
export const ETHERTYPE_RARP = 0x8035;
export const IPPROTO_ICMP = 1;
export const IPPROTO_TCP = 6;

/** Ones'-complement sum of bytes [from, to) added to `acc` (not folded). */
export function onesSum(buf: Uint8Array, from: number, to: number, acc = 0): number {
  let sum = acc;
  let i = from;
  for (; i + 1 < to; i += 2) sum += (buf[i]! << 8) | buf[i + 1]!;
  if (i < to) sum += buf[i]! << 8;
  return sum;
}

export function foldChecksum(sum: number): number {
  let s = sum;
  while (s > 0xffff) s = (s & 0xffff) + Math.floor(s / 0x10000);
  return ~s & 0xffff;
}

export function writeEthernet(frame: Uint8Array, dst: Uint8Array, src: Uint8Array, etherType: number): void {
  frame.set(dst, 0);
  frame.set(src, 6);
  frame[12] = etherType >> 8;
  frame[13] = etherType & 0xff;
}

/**
 * IPv4 header at offset 14 (no options, DF set, TTL 64) with its checksum; the caller
 * fills the L4 part. `totalLength` counts the IP header.
 */
export function writeIpv4(frame: Uint8Array, src: Host, dst: Host, protocol: number, totalLength: number, id: number): void {
  const o = ETH_HEADER;
  frame[o] = 0x45;
  frame[o + 1] = 0;
  frame[o + 2] = totalLength >> 8;
  frame[o + 3] = totalLength & 0xff;
  frame[o + 4] = (id >> 8) & 0xff;
  frame[o + 5] = id & 0xff;
  frame[o + 6] = 0x40;
  frame[o + 7] = 0;
  frame[o + 8] = 64;
  frame[o + 9] = protocol;
  frame[o + 10] = 0;
  frame[o + 11] = 0;
  writeU32(frame, o + 12, src.ipNum);
  writeU32(frame, o + 16, dst.ipNum);
  const c = foldChecksum(onesSum(frame, o, o + IPV4_HEADER));
  frame[o + 10] = c >> 8;
  frame[o + 11] = c & 0xff;
}

/** Sum of the IPv4 pseudo-header used by the TCP/UDP checksums. */
export function pseudoHeaderSum(src: Host, dst: Host, protocol: number, l4Length: number): number {
  return (
    (src.ipNum >>> 16) + (src.ipNum & 0xffff) + (dst.ipNum >>> 16) + (dst.ipNum & 0xffff) + protocol + l4Length
  );
}

export function writeU32(buf: Uint8Array, off: number, v: number): void {
  buf[off] = (v >>> 24) & 0xff;
  buf[off + 1] = (v >>> 16) & 0xff;
  buf[off + 2] = (v >>> 8) & 0xff;
  buf[off + 3] = v & 0xff;
}

export function writeU16(buf: Uint8Array, off: number, v: number): void {
  buf[off] = (v >>> 8) & 0xff;
  buf[off + 1] = v & 0xff;
}

/** Ethernet broadcast address. */
export const BROADCAST_MAC = new Uint8Array([0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);
