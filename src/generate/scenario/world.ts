import type { Picos } from '../../core/time.js';
import type { Rng } from '../rng.js';
import { type Host, host } from '../wire/ethernet-ip.js';
import type { TcpMessage } from '../wire/tcp-connection.js';

/** The testbed as the study describes it: controller + two computes on one LAN. */
export interface World {
  resolution: Picos;
  linkBps: number;
  rng: Rng;
  controller: Host;
  source: Host;
  destination: Host;
  pingClient: Host;
  sourceName: string;
  destinationName: string;
  /** Local processing delay of the source host / round trip to a peer, as the MP sees them. */
  localDelay: Picos;
  peerDelay: Picos;
  nextPort(): number;
}

export function makeWorld(rng: Rng, resolution: Picos, linkGbps: number): World {
  let port = 40000 + (rng.u32() % 10000);
  return {
    resolution, linkBps: linkGbps * 1e9, rng,
    controller: host('10.10.0.10', '02:00:0a:0a:00:0a'),
    source: host('10.10.0.11', '02:00:0a:0a:00:0b'),
    destination: host('10.10.0.12', '02:00:0a:0a:00:0c'),
    pingClient: host('10.10.0.100', '02:00:0a:0a:00:64'),
    sourceName: 'compute1', destinationName: 'compute2',
    localDelay: 30_000_000n, peerDelay: 150_000_000n,
    nextPort: () => (port += 1 + (rng.u32() % 7)),
  };
}

/** Seconds → picoseconds offset from a base time. */
export const at = (base: Picos, seconds: number): Picos => base + BigInt(Math.round(seconds * 1e12));

/** Time-ordered message lists of one connection, built up front (control traffic is small). */
export class MessageLists {
  client: TcpMessage[] = [];
  server: TcpMessage[] = [];
  add(side: 'client' | 'server', t: Picos, bytes: Uint8Array, marker?: string): void {
    (side === 'client' ? this.client : this.server).push(marker ? { t, bytes, marker } : { t, bytes });
  }
  sorted(side: 'client' | 'server'): Iterator<TcpMessage> {
    const list = side === 'client' ? this.client : this.server;
    return list.sort((a, b) => (a.t < b.t ? -1 : a.t > b.t ? 1 : 0))[Symbol.iterator]();
  }
}
