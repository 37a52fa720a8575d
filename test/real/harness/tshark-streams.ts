import { execFileSync } from 'node:child_process';
import type { Direction, FlowInfo } from '../../../src/decode/types.js';
import type { Segment } from '../../protocols/stream-helpers.js';

/** One TCP connection of a capture, split by tshark (an independent reassembler). */
export interface TsharkStream {
  flow: FlowInfo;
  segments: Segment[];
  /** Timestamps of the FINs per direction, if seen. */
  fin: Partial<Record<Direction, bigint>>;
}

/** "1732530000.123456789" (tshark's frame.time_epoch) → picoseconds, exactly. */
export function epochToPicos(text: string): bigint {
  const [sec, frac = ''] = text.trim().split('.');
  return BigInt(sec!) * 1_000_000_000_000n + BigInt((frac + '000000000000').slice(0, 12));
}

/**
 * Every TCP connection in `pcap` with its payload segments in capture order, as tshark
 * sees them (loopback captures: no loss, so capture order is stream order).
 */
export function tsharkTcpStreams(pcap: string): TsharkStream[] {
  const out = execFileSync('tshark', [
    '-r', pcap, '-o', 'tcp.desegment_tcp_streams:FALSE', '-Y', 'tcp', '-T', 'fields', '-E', 'separator=|',
    '-e', 'tcp.stream', '-e', 'ip.src', '-e', 'tcp.srcport', '-e', 'ip.dst', '-e', 'tcp.dstport',
    '-e', 'frame.time_epoch', '-e', 'tcp.flags.syn', '-e', 'tcp.flags.ack', '-e', 'tcp.flags.fin', '-e', 'tcp.payload',
  ], { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024, stdio: ['ignore', 'pipe', 'ignore'], timeout: 60_000 });
  const streams = new Map<number, TsharkStream>();
  for (const line of out.split('\n')) {
    if (line.trim() === '') continue;
    const [id, srcIp, srcPort, dstIp, dstPort, epoch, syn, ack, fin, payload] = line.split('|');
    const sid = Number(id);
    const ts = epochToPicos(epoch!);
    let s = streams.get(sid);
    if (s === undefined) {
      // The first packet is the SYN on a full capture: its sender is the client.
      const clientFirst = !(syn === '1' && ack === '1');
      const a = { ip: srcIp!, port: Number(srcPort) };
      const b = { ip: dstIp!, port: Number(dstPort) };
      s = {
        flow: { id: sid, transport: 'tcp', client: clientFirst ? a : b, server: clientFirst ? b : a, midstream: syn !== '1' },
        segments: [], fin: {},
      };
      streams.set(sid, s);
    }
    const dir: Direction = Number(srcPort) === s.flow.client.port && srcIp === s.flow.client.ip ? 'c2s' : 's2c';
    if (payload !== undefined && payload !== '') s.segments.push({ dir, ts, bytes: Uint8Array.from(Buffer.from(payload.replace(/:/g, ''), 'hex')) });
    if (fin === '1' && s.fin[dir] === undefined) s.fin[dir] = ts;
  }
  return [...streams.values()];
}
