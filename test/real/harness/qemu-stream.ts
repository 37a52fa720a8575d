import { execFileSync } from 'node:child_process';
import { epochToPicos } from './tshark.js';

export interface PayloadSegment {
  ts: bigint;
  /** Relative TCP sequence number of the first payload byte. */
  seq: number;
  data: Uint8Array;
}

/**
 * tshark's view of the client→server payload of the connection to `port`: an
 * independent path from capture file to stream bytes (no migscope reader, no
 * reassembler). Segments in capture order, duplicates dropped by sequence number.
 */
export function tsharkClientPayload(pcap: string, port: number): PayloadSegment[] {
  const out = execFileSync('tshark', [
    '-r', pcap, '-Y', `tcp.dstport == ${port} && tcp.len > 0`, '-T', 'fields', '-E', 'separator=/t',
    '-e', 'frame.time_epoch', '-e', 'tcp.seq', '-e', 'tcp.payload',
  ], { encoding: 'utf8', maxBuffer: 512 * 1024 * 1024, timeout: 120_000 });
  const segs: PayloadSegment[] = [];
  let next = 1;
  for (const line of out.split('\n')) {
    if (!line) continue;
    const [t, seq, hex] = line.split('\t') as [string, string, string];
    const s = Number(seq);
    const data = Buffer.from(hex.replaceAll(':', ''), 'hex');
    if (s + data.length <= next) continue; // retransmission of bytes we have
    segs.push({ ts: epochToPicos(t), seq: Math.max(s, next), data: s < next ? data.subarray(next - s) : data });
    next = Math.max(next, s + data.length);
  }
  return segs;
}
