import { parsePacket } from '../../decode/parse.js';
import { IpProto, PacketView } from '../../decode/packet-view.js';

/**
 * Which of `workers` decode workers owns a packet of a capture file: a symmetric hash
 * of the TCP/UDP 5-tuple (both directions of a connection go to the same worker, which
 * then sees the whole flow), the same for every worker of the run (no random key: each
 * worker decides alone, for every packet of the file). Packets without a 5-tuple — ARP,
 * ICMP echo, fragments, other protocols, unparseable ones — go to worker 0, in file
 * order, as the native capture's fixed ring (native/flow_hash.h).
 *
 * A sender who chooses addresses can only crowd flows onto one worker (the pure-TS
 * speed): the split decides where work runs, not what is kept.
 */
export class FlowSplitter {
  private readonly pv = new PacketView();

  constructor(private readonly workers: number) {}

  owner(b: Uint8Array, start: number, end: number, wireLength: number, linkType: number): number {
    if (this.workers === 1) return 0;
    const pv = this.pv;
    if (parsePacket(b, linkType, wireLength, pv, start, end) !== null || pv.ipVersion === 0 || pv.fragment) return 0;
    const proto = pv.ipProto;
    if (proto !== IpProto.TCP && proto !== IpProto.UDP) return 0;
    const a = endpoint(pv.src0, pv.src1, pv.src2, pv.src3, pv.srcPort);
    const z = endpoint(pv.dst0, pv.dst1, pv.dst2, pv.dst3, pv.dstPort);
    return (fmix(((a + z) >>> 0) ^ Math.imul(proto, 0x27d4eb2d)) >>> 0) % this.workers;
  }
}

/** murmur3's finaliser: every input bit reaches every output bit. */
function fmix(h: number): number {
  h ^= h >>> 16; h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13; h = Math.imul(h, 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

function endpoint(w0: number, w1: number, w2: number, w3: number, port: number): number {
  let h = (0x9e3779b9 ^ port) >>> 0;
  h = fmix(h ^ w0) + 1;
  h = fmix(h ^ w1) + 2;
  h = fmix(h ^ w2) + 3;
  return fmix(h ^ w3);
}
