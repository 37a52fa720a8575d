/**
 * Test-only packet builder: hand-built headers for every layer the Dissector parses
 * (src/generate/wire only builds Ethernet + IPv4, so VLAN/SLL/IPv6 live here).
 * Every field is written explicitly so tests can state the bytes they expect.
 */
import type { CapturedPacket } from '../../src/ingest/types.js';

export const MAC_A = [0x52, 0x54, 0x00, 0x00, 0x00, 0x0a];
export const MAC_B = [0x52, 0x54, 0x00, 0x00, 0x00, 0x0b];

function cat(...parts: (Uint8Array | number[])[]): Uint8Array {
  const n = parts.reduce((s, p) => s + p.length, 0);
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) { out.set(p, o); o += p.length; }
  return out;
}
const u16 = (v: number): number[] => [(v >>> 8) & 0xff, v & 0xff];
const u32 = (v: number): number[] => [(v >>> 24) & 0xff, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff];

export function ipv4Bytes(ip: string): number[] {
  return ip.split('.').map(Number);
}

export function ipv6Bytes(ip: string): number[] {
  const [head, tail] = ip.includes('::') ? ip.split('::') : [ip, undefined];
  const h = head ? head.split(':') : [];
  const t = tail !== undefined && tail !== '' ? tail.split(':') : [];
  const groups = tail === undefined ? h : [...h, ...Array(8 - h.length - t.length).fill('0'), ...t];
  return groups.flatMap((g) => u16(parseInt(g, 16)));
}

function checksum(b: Uint8Array): number {
  let s = 0;
  for (let i = 0; i < b.length; i += 2) s += (b[i]! << 8) | (b[i + 1] ?? 0);
  while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
  return ~s & 0xffff;
}

export interface Ipv4Opts { id?: number; flagsFrag?: number; ttl?: number; totalLength?: number; options?: number[] }

export function ipv4(src: string, dst: string, proto: number, payload: Uint8Array, o: Ipv4Opts = {}): Uint8Array {
  const opts = o.options ?? [];
  const ihl = 20 + opts.length;
  const hdr = new Uint8Array([
    0x40 | (ihl / 4), 0, ...u16(o.totalLength ?? ihl + payload.length), ...u16(o.id ?? 1),
    ...u16(o.flagsFrag ?? 0x4000), o.ttl ?? 64, proto, 0, 0, ...ipv4Bytes(src), ...ipv4Bytes(dst), ...opts,
  ]);
  const c = checksum(hdr);
  hdr[10] = c >> 8; hdr[11] = c & 0xff;
  return cat(hdr, payload);
}

/** `ext`: extension headers as [nextHeaderType, bytes-without-the-first-two] pairs in order. */
export function ipv6(src: string, dst: string, proto: number, payload: Uint8Array, ext: { type: number; body: number[] }[] = []): Uint8Array {
  const parts: Uint8Array[] = [];
  for (let i = 0; i < ext.length; i++) {
    const next = i + 1 < ext.length ? ext[i + 1]!.type : proto;
    const e = ext[i]!;
    if (e.type === 44) parts.push(new Uint8Array([next, 0, ...e.body]));
    else parts.push(new Uint8Array([next, (e.body.length + 2) / 8 - 1, ...e.body]));
  }
  const extBytes = cat(...parts);
  const first = ext.length > 0 ? ext[0]!.type : proto;
  return cat([0x60, 0, 0, 0, ...u16(extBytes.length + payload.length), first, 64, ...ipv6Bytes(src), ...ipv6Bytes(dst)], extBytes, payload);
}

export const FIN = 0x01, SYN = 0x02, RST = 0x04, PSH = 0x08, ACK = 0x10;

export function tcp(sport: number, dport: number, seq: number, ack: number, flags: number, payload: Uint8Array = new Uint8Array(0), options: number[] = []): Uint8Array {
  const hlen = 20 + options.length;
  return cat([...u16(sport), ...u16(dport), ...u32(seq >>> 0), ...u32(ack >>> 0), (hlen / 4) << 4, flags, ...u16(65535), 0, 0, 0, 0, ...options], payload);
}

export function udp(sport: number, dport: number, payload: Uint8Array): Uint8Array {
  return cat([...u16(sport), ...u16(dport), ...u16(8 + payload.length), 0, 0], payload);
}

export function icmpEcho(type: number, id: number, seq: number, data: number[] = [1, 2, 3, 4]): Uint8Array {
  return new Uint8Array([type, 0, 0, 0, ...u16(id), ...u16(seq), ...data]);
}

export function arp(op: number, sha: number[], spa: string, tha: number[], tpa: string): Uint8Array {
  return new Uint8Array([0, 1, 8, 0, 6, 4, ...u16(op), ...sha, ...ipv4Bytes(spa), ...tha, ...ipv4Bytes(tpa)]);
}

export interface VlanTag { tpid: number; vid: number }

export function ether(etherType: number, payload: Uint8Array, vlans: VlanTag[] = []): Uint8Array {
  // Each tag: its TPID replaces the type field position, followed by TCI.
  const tags: number[] = [];
  for (const v of vlans) tags.push(...u16(v.tpid), ...u16(v.vid & 0xfff));
  return cat(MAC_B, MAC_A, tags, u16(etherType), payload);
}

export function sll(protocol: number, payload: Uint8Array): Uint8Array {
  return cat([0, 0, 0, 1, 0, 6, ...MAC_A, 0, 0, ...u16(protocol)], payload);
}

export function sll2(protocol: number, payload: Uint8Array): Uint8Array {
  return cat([...u16(protocol), 0, 0, 0, 0, 0, 3, 0, 1, 0, 6, ...MAC_A, 0, 0], payload);
}

export function nullLink(family: number, payload: Uint8Array, littleEndian = true): Uint8Array {
  const f = littleEndian ? [family & 0xff, 0, 0, 0] : [0, 0, 0, family & 0xff];
  return cat(f, payload);
}

export function pkt(data: Uint8Array, ts: bigint, linkType = 1, wireLength = data.length): CapturedPacket {
  return { ts, data, wireLength, linkType, iface: 0 };
}

/** Ethernet + IPv4 + TCP in one call. */
export function ethTcp(src: string, sport: number, dst: string, dport: number, seq: number, ack: number, flags: number, payload?: Uint8Array): Uint8Array {
  return ether(0x0800, ipv4(src, dst, 6, tcp(sport, dport, seq, ack, flags, payload)));
}
