import { closeSync, openSync, readSync } from 'node:fs';
import type { PacketView } from '../decode/packet-view.js';

/**
 * The flow table's hash: keyed with a random per-process key, so nobody outside can
 * choose addresses and ports that collide (an unkeyed mix lets an attacker who reads the
 * source fill one chain: source IP xor port constant made 50 k flows cost 20 s).
 *
 * HalfSipHash-1-3 (SipHash's 32-bit variant: 32-bit words, ARX rounds, a 64-bit key),
 * written from the SipHash paper's description. The two endpoints are put in a canonical
 * order first so both directions of a connection hash alike. IPv4 hashes 4 words, IPv6 10.
 * Allocation: none.
 */
const key = processKey();
const K0 = (key[0]! | (key[1]! << 8) | (key[2]! << 16) | (key[3]! << 24)) >>> 0;
const K1 = (key[4]! | (key[5]! << 8) | (key[6]! << 16) | (key[7]! << 24)) >>> 0;

/**
 * 8 random bytes from the kernel's CSPRNG. Read from /dev/urandom: loading node:crypto
 * for them cost ~4 ms of every run's start-up; where that device is missing, Web Crypto.
 */
function processKey(): Uint8Array {
  const k = new Uint8Array(8);
  try {
    const fd = openSync('/dev/urandom', 'r');
    try {
      if (readSync(fd, k, 0, 8, null) === 8) return k;
    } finally {
      closeSync(fd);
    }
  } catch {
    // no device: below
  }
  globalThis.crypto.getRandomValues(k);
  return k;
}

let v0 = 0, v1 = 0, v2 = 0, v3 = 0;

function round(): void {
  v0 = (v0 + v1) | 0; v1 = (v1 << 5) | (v1 >>> 27); v1 ^= v0; v0 = (v0 << 16) | (v0 >>> 16);
  v2 = (v2 + v3) | 0; v3 = (v3 << 8) | (v3 >>> 24); v3 ^= v2;
  v0 = (v0 + v3) | 0; v3 = (v3 << 7) | (v3 >>> 25); v3 ^= v0;
  v2 = (v2 + v1) | 0; v1 = (v1 << 13) | (v1 >>> 19); v1 ^= v2; v2 = (v2 << 16) | (v2 >>> 16);
}

function word(m: number): void {
  v3 ^= m;
  round();
  v0 ^= m;
}

function finish(words: number): number {
  word(words << 24);
  v2 ^= 0xff;
  round(); round(); round();
  return v1 ^ v3;
}

/** Same value for both directions of a connection; unpredictable without the process's key. */
export function symmetricHash(pv: PacketView): number {
  v0 = K0; v1 = K1; v2 = 0x6c796765 ^ K0; v3 = 0x74656462 ^ K1;
  // Canonical order: the endpoint with the smaller (address, port) goes first.
  let srcFirst = true;
  if (pv.src3 !== pv.dst3) srcFirst = pv.src3 >>> 0 < pv.dst3 >>> 0;
  else if (pv.src2 !== pv.dst2) srcFirst = pv.src2 >>> 0 < pv.dst2 >>> 0;
  else if (pv.src1 !== pv.dst1) srcFirst = pv.src1 >>> 0 < pv.dst1 >>> 0;
  else if (pv.src0 !== pv.dst0) srcFirst = pv.src0 >>> 0 < pv.dst0 >>> 0;
  else srcFirst = pv.srcPort <= pv.dstPort;
  const ports = srcFirst ? (pv.srcPort << 16) | pv.dstPort : (pv.dstPort << 16) | pv.srcPort;
  word(ports);
  word(pv.ipProto | (pv.ipVersion << 8));
  if (srcFirst) { word(pv.src3); word(pv.dst3); } else { word(pv.dst3); word(pv.src3); }
  if (pv.ipVersion !== 6) return finish(4);
  if (srcFirst) {
    word(pv.src0); word(pv.src1); word(pv.src2); word(pv.dst0); word(pv.dst1); word(pv.dst2);
  } else {
    word(pv.dst0); word(pv.dst1); word(pv.dst2); word(pv.src0); word(pv.src1); word(pv.src2);
  }
  return finish(10);
}
