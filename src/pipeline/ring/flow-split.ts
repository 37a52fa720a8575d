import { parsePacket } from '../../decode/parse.js';
import { IpProto, PacketView } from '../../decode/packet-view.js';

/**
 * Which of `workers` decode workers owns a packet of a capture file: a symmetric hash
 * of the TCP/UDP 5-tuple (both directions of a connection go to the same worker, which
 * then sees the whole flow), the same for every worker of the run (no random key: each
 * worker decides alone, for every packet of the file). ICMP echo messages are spread by
 * host pair (see owner); other packets without a 5-tuple — ARP, fragments, other
 * protocols, unparseable ones — go to worker 0, in file order.
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
    let srcPort = pv.srcPort, dstPort = pv.dstPort;
    if (proto !== IpProto.TCP && proto !== IpProto.UDP) {
      // A whole ICMP echo (request or reply) is one message of its own, no flow state
      // and nothing aggregated: spread by host pair, so that a ping flood (a migration
      // capture's second largest share of packets) does not hold worker 0 back while
      // the others wait for its watermark. Any other packet goes to worker 0.
      if (!isWholeEcho(b, pv)) return 0;
      srcPort = 0;
      dstPort = 0;
    }
    // IPv4: the other three address words are the same for every packet, so one round
    // (not four) per endpoint; every worker makes the same choice either way.
    const v4 = pv.ipVersion === 4;
    const a = v4 ? fmix(((0x9e3779b9 ^ srcPort) >>> 0) ^ pv.src3) : endpoint(pv.src0, pv.src1, pv.src2, pv.src3, srcPort);
    const z = v4 ? fmix(((0x9e3779b9 ^ dstPort) >>> 0) ^ pv.dst3) : endpoint(pv.dst0, pv.dst1, pv.dst2, pv.dst3, dstPort);
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

/**
 * An ICMP or ICMPv6 echo request/reply whose 8-byte header was captured: the Dissector
 * makes exactly one message of it (src/decode/icmp.ts), whichever worker decodes it.
 */
function isWholeEcho(b: Uint8Array, pv: PacketView): boolean {
  const v6 = pv.ipVersion === 6;
  if (pv.ipProto !== (v6 ? IpProto.ICMPv6 : IpProto.ICMP) || pv.l4End - pv.l4Offset < 8) return false;
  const t = b[pv.l4Offset];
  return v6 ? t === 128 || t === 129 : t === 8 || t === 0;
}
