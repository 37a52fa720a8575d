/**
 * Packets per second of the Dissector alone, in this process, on a synthetic bulk
 * transfer: no file, no syscalls, no phase engine. It is the decode ceiling the file
 * pipelines approach as their I/O gets cheaper, and the quickest loop to profile.
 * (Speed belongs to the bench, not to the tests.)
 *
 * Trace: `flows` concurrent TCP connections, 1448-byte data segments client→server with
 * a pure ACK back every second segment (a bulk transfer like the QEMU stream), 1 in 100
 * data segments swapped with its successor (out of order). Frames are templates whose
 * seq/ack fields are rewritten in place, so the loop measures the Dissector, not a
 * packet builder. The stream decoder only counts bytes.
 */
import { Dissector } from '../src/dissect/dissector.js';
import type { CapturedPacket } from '../src/ingest/types.js';
import type { ProtocolAnalyzer, StreamDecoder } from '../src/protocols/types.js';
import { ACK, PSH, SYN, ethTcp, pkt } from '../test/helpers/packets.js';

export interface DissectorPps {
  packets: number;
  flows: number;
  seconds: number;
  packetsPerSecond: number;
  gbitPerSecond: number;
  /** Stream bytes the decoder got: (data segments × 1448) when nothing was lost. */
  deliveredBytes: number;
  holeBytes: number;
}

interface FlowTemplate { data: CapturedPacket; ack: CapturedPacket; seq: number; n: number }

const MSS = 1448;
const SEQ_OFFSET = 14 + 20 + 4;
const ACK_OFFSET = 14 + 20 + 8;

function put32(b: Uint8Array, o: number, v: number): void {
  b[o] = v >>> 24; b[o + 1] = (v >>> 16) & 0xff; b[o + 2] = (v >>> 8) & 0xff; b[o + 3] = v & 0xff;
}

export function measureDissectorPps(total = 2_000_000, nFlows = 64): DissectorPps {
  let delivered = 0;
  const counter: ProtocolAnalyzer = {
    name: 'qemu', ports: [49152], probe: () => false,
    create: (): StreamDecoder => ({ data: (_d, b) => { delivered += b.length; }, gap: () => undefined, end: () => undefined }),
  };
  const d = new Dissector(() => undefined, { analyzers: [counter] });
  const payload = new Uint8Array(MSS).fill(0x5a);
  const flows: FlowTemplate[] = [];
  let ts = 1_700_000_000_000_000_000_000n;
  for (let i = 0; i < nFlows; i++) {
    const c = `10.1.${i >> 8}.${i & 0xff}`;
    d.packet(pkt(ethTcp(c, 50000 + i, '10.2.0.1', 49152, 1000, 0, SYN), ts));
    d.packet(pkt(ethTcp('10.2.0.1', 49152, c, 50000 + i, 7000, 1001, SYN | ACK), ts));
    flows.push({
      data: pkt(ethTcp(c, 50000 + i, '10.2.0.1', 49152, 1001, 7001, PSH | ACK, payload), ts),
      ack: pkt(ethTcp('10.2.0.1', 49152, c, 50000 + i, 7001, 1001, ACK), ts),
      seq: 1001, n: 0,
    });
  }
  const started = process.hrtime.bigint();
  let sent = 0;
  let bytes = 0;
  for (let k = 0; sent < total; k++) {
    const f = flows[k % nFlows]!;
    ts += 580_000n; // ≈ 20 Gbit/s of 1500-byte frames
    const swap = f.n % 100 === 50; // 1 in 100: segment n+1 before n
    for (const j of swap ? [1, 0] : [0]) {
      put32(f.data.data, SEQ_OFFSET, (f.seq + j * MSS) >>> 0);
      f.data.ts = ts;
      d.packet(f.data);
      sent++; bytes += f.data.data.length;
    }
    if (swap) { f.seq = (f.seq + 2 * MSS) >>> 0; f.n += 2; } else { f.seq = (f.seq + MSS) >>> 0; f.n++; }
    if (f.n % 2 === 0) {
      put32(f.ack.data, ACK_OFFSET, f.seq);
      f.ack.ts = ts;
      d.packet(f.ack);
      sent++; bytes += f.ack.data.length;
    }
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  d.finish();
  return {
    packets: sent, flows: nFlows, seconds, packetsPerSecond: sent / seconds, gbitPerSecond: (bytes * 8) / seconds / 1e9,
    deliveredBytes: delivered, holeBytes: d.stats.tcp.holeBytes,
  };
}
