/**
 * Splits one generated capture into what two measurement points would have recorded:
 * MP A on the source host's link, MP B on the destination host's. The generated trace
 * is A's view: A records every packet at its true time t. B records the packets to or
 * from the destination host, on a clock `shift` ahead of A's that reads with uniform
 * noise of ±`clockJitter`. Traffic of neither host (pings to the VM, the controller) is
 * on A's link only.
 *
 * No link delay between the taps: the generator's TCP acknowledges every byte sent up
 * to the ACK's own timestamp (causality at the scale of a tap-to-tap delay is not
 * modelled), so delaying one direction at B would make B see ACKs before the data they
 * acknowledge. For the same reason B keeps A's packet order (a FIFO tap): a reading that
 * would fall before the previous packet's is clamped to just after it. The estimator's
 * separation of offset and one-way delay is tested on synthetic sightings
 * (clock-offset.test.ts).
 */
import { openCapture } from '../../src/ingest/file-source.js';
import { createCaptureWriter } from '../../src/ingest/formats/writers.js';
import type { CaptureWriterOptions } from '../../src/ingest/formats/writer-common.js';
import type { WriteFormat } from '../../src/ingest/types.js';
import { fileSink } from '../../src/ingest/formats/sink.js';
import { PacketView } from '../../src/decode/packet-view.js';
import { parsePacket } from '../../src/decode/parse.js';
import { formatDstIp, formatSrcIp } from '../../src/decode/ip.js';
import type { Picos } from '../../src/core/time.js';

export interface SplitOptions {
  sourceHost: string;
  destinationHost: string;
  /** B's clock minus A's (ps). */
  shift: Picos;
  /** B's timestamping noise: uniform in [-this, +this] (ps). */
  clockJitter: Picos;
  seed: number;
  /** Output format (default pcapng) and per-side writer options (a DPMI MP's MAMPID and MAC). */
  format?: WriteFormat;
  writerOptions?: [CaptureWriterOptions, CaptureWriterOptions];
}

const NS = 1000n;

/** Deterministic uniform noise (xorshift32). */
export function noise(seed: number): (max: Picos) => Picos {
  let state = seed >>> 0 || 1;
  return (max) => {
    state ^= state << 13; state >>>= 0; state ^= state >>> 17; state ^= state << 5; state >>>= 0;
    return BigInt(Math.floor((state / 0x1_0000_0000) * Number(max + 1n)));
  };
}

export async function splitCapture(input: string, outA: string, outB: string, o: SplitOptions): Promise<{ a: number; b: number }> {
  const uniform = noise(o.seed);
  const pv = new PacketView();
  const f = await openCapture(input);
  const wa = createCaptureWriter(o.format ?? 'pcapng', fileSink(outA), o.writerOptions?.[0]);
  const wb = createCaptureWriter(o.format ?? 'pcapng', fileSink(outB), o.writerOptions?.[1]);
  let a = 0;
  let b = 0;
  let lastB = 0n;
  try {
    for await (const batch of f.batches()) {
      for (const p of batch) {
        wa.write(p.ts, p.data, p.wireLength);
        a++;
        if (parsePacket(p.data, p.linkType, p.wireLength, pv) !== null || pv.ipVersion === 0) continue;
        if (formatSrcIp(pv) !== o.destinationHost && formatDstIp(pv) !== o.destinationHost) continue;
        let t = ((p.ts + o.shift + uniform(2n * o.clockJitter) - o.clockJitter) / NS) * NS;
        if (t <= lastB) t = lastB + NS;
        lastB = t;
        wb.write(t, p.data, p.wireLength);
        b++;
      }
    }
  } finally {
    await f.close();
    wa.close();
    wb.close();
  }
  return { a, b };
}
