import type { Picos } from '../../core/time.js';
import { type GeneratedPacket, quantizeUp } from '../source.js';
import { BROADCAST_MAC, ETHERTYPE_RARP, writeEthernet, writeU16 } from './ethernet-ip.js';

/**
 * QEMU's self-announcement after the guest resumes at the destination: RARP "reverse
 * request" broadcasts with the VM's MAC, padded to the 60-byte Ethernet minimum, at
 * 0, 50, 200, 450 and 800 ms (initial 50 ms, +100 ms per round, 5 rounds).
 */
export function rarpFrame(mac: Uint8Array): Uint8Array {
  const f = new Uint8Array(60);
  writeEthernet(f, BROADCAST_MAC, mac, ETHERTYPE_RARP);
  writeU16(f, 14, 1); // htype Ethernet
  writeU16(f, 16, 0x0800); // ptype IPv4
  f[18] = 6;
  f[19] = 4;
  writeU16(f, 20, 3); // reverse request
  f.set(mac, 22); // sender hardware address; sender IP 0.0.0.0
  f.set(mac, 32); // target hardware address; target IP 0.0.0.0
  return f;
}

export const ANNOUNCE_OFFSETS_MS = [0, 50, 200, 450, 800] as const;

export function* rarpAnnouncements(mac: Uint8Array, resumeAt: Picos, resolution: Picos, marker?: string): Generator<GeneratedPacket> {
  let first = true;
  for (const ms of ANNOUNCE_OFFSETS_MS) {
    const ts = quantizeUp(resumeAt + BigInt(ms) * 1_000_000_000n, resolution);
    yield first && marker ? { ts, frame: rarpFrame(mac), markers: [marker] } : { ts, frame: rarpFrame(mac) };
    first = false;
  }
}
