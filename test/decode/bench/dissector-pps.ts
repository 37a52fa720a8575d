/**
 * Packets per second of the Dissector on a synthetic trace (not a test: speed belongs
 * to the bench lane). Run: npx vite-node test/decode/bench/dissector-pps.ts [packets] [flows]
 *
 * Trace: `flows` concurrent TCP connections, 1448-byte data segments client→server with
 * a pure ACK back every second segment (a bulk transfer like the QEMU stream), 1 in 100
 * data segments swapped with its successor (out of order). Frames are templates whose
 * seq/ack fields are rewritten in place, so the loop measures the Dissector, not a
 * packet builder. The decoder only counts bytes.
 */
import { Dissector } from '../../../src/decode/dissector.js';
import type { CapturedPacket } from '../../../src/ingest/types.js';
import type { ProtocolAnalyzer, StreamDecoder } from '../../../src/protocols/types.js';
import { ACK, PSH, SYN, ethTcp, pkt } from '../helpers/packets.js';

const total = Number(process.argv[2] ?? 2_000_000);
const nFlows = Number(process.argv[3] ?? 64);
let delivered = 0;
const counter: ProtocolAnalyzer = {
  name: 'qemu', ports: [49152], probe: () => false,
  create: (): StreamDecoder => ({ data: (_d, b) => { delivered += b.length; }, gap: () => undefined, end: () => undefined }),
};
let messages = 0;
const d = new Dissector(() => { messages++; }, { analyzers: [counter] });

const MSS = 1448;
const payload = new Uint8Array(MSS).fill(0x5a);
interface F { data: CapturedPacket; ack: CapturedPacket; seq: number; n: number }
const flows: F[] = [];
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
const SEQ = 14 + 20 + 4, ACKF = 14 + 20 + 8;
function put32(b: Uint8Array, o: number, v: number): void {
  b[o] = v >>> 24; b[o + 1] = (v >>> 16) & 0xff; b[o + 2] = (v >>> 8) & 0xff; b[o + 3] = v & 0xff;
}

const started = process.hrtime.bigint();
let sent = 0;
let bytes = 0;
for (let k = 0; sent < total; k++) {
  const f = flows[k % nFlows]!;
  ts += 580_000n; // ~ 20 Gbit/s of 1500-byte frames
  // 1 in 100: send segment n+1 before n.
  const swap = f.n % 100 === 50;
  const order = swap ? [1, 0] : [0];
  for (const j of order) {
    put32(f.data.data, SEQ, (f.seq + j * MSS) >>> 0);
    f.data.ts = ts;
    d.packet(f.data);
    sent++; bytes += f.data.data.length;
  }
  if (swap) { f.seq = (f.seq + 2 * MSS) >>> 0; f.n += 2; } else { f.seq = (f.seq + MSS) >>> 0; f.n++; }
  if (f.n % 2 === 0) {
    put32(f.ack.data, ACKF, f.seq);
    f.ack.ts = ts;
    d.packet(f.ack);
    sent++; bytes += f.ack.data.length;
  }
}
const secs = Number(process.hrtime.bigint() - started) / 1e9;
d.finish();
console.log(JSON.stringify({
  packets: sent, flows: nFlows, seconds: Number(secs.toFixed(3)),
  packetsPerSecond: Math.round(sent / secs), gbitPerSecond: Number(((bytes * 8) / secs / 1e9).toFixed(2)),
  deliveredBytes: delivered, holeBytes: d.stats.tcp.holeBytes, messages, anomalies: d.stats.anomalies,
}));
