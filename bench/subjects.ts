import { spawnSync } from 'node:child_process';
import { createReadStream, readFileSync } from 'node:fs';
import type { TraceInfo } from './traces.js';

/** How a subject's stdout proves it went through the whole file. */
export type PacketCheck =
  /** migscope's summary line: "source F (pcap): N packets …" (plus ring/kernel drops). */
  | 'migscope-summary'
  /** One output line per packet (tshark -T fields). */
  | 'lines'
  /** A bare packet count on stdout (the pcap-parser script). */
  | 'count'
  /** The tool reports no count (cat, tcpdump -w, tshark -q): its exit code is all we check. */
  | 'none';

export interface Subject {
  name: string;
  /** migscope's own paths: the ratio baseline and the target figures use these. */
  migscope: boolean;
  argv: string[];
  check: PacketCheck;
}

export const PURE_TS = 'migscope pure-TS';

const has = (tool: string): boolean => spawnSync('sh', ['-c', `command -v ${tool}`]).status === 0;

/**
 * Every subject of one trace. The native ring reads pcap/pcapng through libpcap and so
 * do tcpdump, tshark and pcap-parser: on a DPMI file only migscope's own readers (one
 * thread, or split over workers) and cat apply. tshark gets the same protocols migscope dissects: libvirt RPC is found by
 * its port heuristics, HTTP on the Keystone/Nova API ports is forced with -d (those
 * ports are not HTTP's defaults), AMQP on 5672 is a default.
 */
export function subjectsFor(trace: TraceInfo, cli: string, pcapParserScript: string, baselineCli?: string): Subject[] {
  const p = trace.path;
  const list: Subject[] = [];
  // A baseline (another build of migscope, e.g. before a change) is measured like a peer:
  // it never counts as "migscope" for the ratios and targets.
  for (const [prefix, bin, ours] of [['migscope', cli, true], ['baseline', baselineCli, false]] as const) {
    if (bin === undefined) continue;
    list.push({ name: `${prefix} pure-TS`, migscope: ours, argv: ['node', bin, 'analyze', p], check: 'migscope-summary' });
    if (prefix === 'migscope') {
      // The same, reading the file in place from a mapping instead of read() copies.
      list.push({ name: `${prefix} pure-TS mmap`, migscope: ours, argv: ['env', 'MIGSCOPE_FILE_IO=mmap', 'node', bin, 'analyze', p], check: 'migscope-summary' });
    }
    list.push(
      { name: `${prefix} --workers 2`, migscope: ours, argv: ['node', bin, 'analyze', '--workers', '2', p], check: 'migscope-summary' },
    );
    if (trace.format !== 'pcap') continue;
    // libpcap in a native thread → rings → decode workers (what --filter on a file runs).
    list.push({ name: `${prefix} ring ×2 (libpcap)`, migscope: ours, argv: ['node', bin, 'analyze', '--workers', '2', '--filter', 'ip or not ip', p], check: 'migscope-summary' });
  }
  if (trace.format === 'pcap') {
    if (has('tshark')) {
      const decodeAs = ['-d', 'tcp.port==5000,http', '-d', 'tcp.port==35357,http', '-d', 'tcp.port==8774,http', '-d', 'tcp.port==9696,http'];
      list.push(
        { name: 'tshark -q', migscope: false, argv: ['tshark', '-n', '-r', p, '-q', ...decodeAs], check: 'none' },
        // What someone watching migrations with tshark runs: a libvirt display filter.
        { name: 'tshark -Y libvirt', migscope: false, argv: ['tshark', '-n', '-r', p, '-Y', 'libvirt', ...decodeAs], check: 'none' },
        {
          name: 'tshark -T fields', migscope: false, check: 'lines',
          argv: ['tshark', '-n', '-r', p, ...decodeAs, '-T', 'fields', '-e', 'frame.number', '-e', 'libvirt.procedure',
            '-e', 'libvirt.type', '-e', 'http.request.method', '-e', 'http.request.uri', '-e', 'http.response.code',
            '-e', 'amqp.method.class', '-e', 'amqp.method.method'],
        },
      );
    }
    if (has('tcpdump')) list.push({ name: 'tcpdump -r F -w /dev/null', migscope: false, argv: ['tcpdump', '-r', p, '-w', '/dev/null'], check: 'none' });
    list.push({ name: 'pcap-parser (npm)', migscope: false, argv: ['node', pcapParserScript, p], check: 'count' });
  }
  list.push({ name: 'cat F >/dev/null', migscope: false, argv: ['cat', p], check: 'none' });
  return list;
}

export interface PacketVerdict {
  /** Packets the subject says it processed; null when it reports none. */
  packetsCounted: number | null;
  /** Why the run does not count as a whole-file pass; undefined when it does. */
  problem?: string;
}

async function countLines(path: string): Promise<number> {
  let n = 0;
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 }) as AsyncIterable<Buffer>) {
    for (let i = chunk.indexOf(10); i !== -1; i = chunk.indexOf(10, i + 1)) n++;
  }
  return n;
}

/** Reads the subject's stdout and tells whether it processed every packet of the trace. */
export async function verifyPackets(check: PacketCheck, stdoutFile: string, expected: number): Promise<PacketVerdict> {
  let counted: number | null = null;
  let problem: string | undefined;
  if (check === 'migscope-summary') {
    const text = readFileSync(stdoutFile, 'utf8');
    const m = /^source .*: (\d+) packets(?:.*?(\d+) ring drops, (\d+) kernel drops)?/m.exec(text);
    if (!m) return { packetsCounted: null, problem: 'no packet count in the summary' };
    counted = Number(m[1]);
    if (m[2] !== undefined && (Number(m[2]) > 0 || Number(m[3]) > 0)) problem = `drops: ${m[2]} ring, ${m[3]} kernel`;
  } else if (check === 'lines') {
    counted = await countLines(stdoutFile);
  } else if (check === 'count') {
    counted = Number(readFileSync(stdoutFile, 'utf8').trim());
  }
  if (counted !== null && counted !== expected) problem ??= `counted ${counted} packets, the file has ${expected}`;
  return problem === undefined ? { packetsCounted: counted } : { packetsCounted: counted, problem };
}
