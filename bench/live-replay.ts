/**
 * What bench/live.ts needs around a capture: a generated trace and its totals, and
 * tcpreplay at a set rate inside the sending namespace, with what it really sent.
 */
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, openSync, readSync, statSync } from 'node:fs';
import path from 'node:path';

export interface TraceTotals {
  file: string;
  packets: number;
  /** Captured frame bytes (what a 1:1 replay puts on the veth). */
  bytes: number;
  meanFrameBytes: number;
}

/** `migscope generate --scenario openstack`: an OpenStack migration, as the issue asks. */
export function generateTrace(repoRoot: string, file: string, payloadScale: number, runs: number): TraceTotals {
  const cli = path.join(repoRoot, 'bin', 'migscope.js');
  const r = spawnSync('node', [cli, 'generate', '--scenario', 'openstack', '--payload-scale', String(payloadScale),
    '--runs', String(runs), '--format', 'pcap', '-o', file], { encoding: 'utf8', timeout: 300_000 });
  if (r.status !== 0) throw new Error(`migscope generate failed: ${r.stderr || r.error?.message}`);
  return pcapTotals(file);
}

/** Packet and byte totals of a classic pcap file (little-endian µs or ns magic). */
export function pcapTotals(file: string): TraceTotals {
  const fd = openSync(file, 'r');
  try {
    const size = statSync(file).size;
    const hdr = Buffer.alloc(16);
    readSync(fd, hdr, 0, 16, 0);
    const magic = hdr.readUInt32LE(0);
    if (magic !== 0xa1b2c3d4 && magic !== 0xa1b23c4d) throw new Error(`${file}: not a little-endian pcap file`);
    let pos = 24;
    let packets = 0;
    let bytes = 0;
    // Bounded by the file size: every record advances pos by at least its 16-byte header.
    while (pos + 16 <= size) {
      readSync(fd, hdr, 0, 16, pos);
      const caplen = hdr.readUInt32LE(8);
      packets++;
      bytes += caplen;
      pos += 16 + caplen;
    }
    return { file, packets, bytes, meanFrameBytes: packets > 0 ? bytes / packets : 0 };
  } finally {
    closeSync(fd);
  }
}

export interface ReplayOutcome {
  /** tcpreplay's "Successful packets". */
  sent: number;
  failed: number;
  bytes: number;
  seconds: number;
  /** Achieved rate as tcpreplay reports it ("Rated: … pps"). */
  pps: number;
  gbps: number;
}

/**
 * --pps N; or the trace's own timing with `wireSpeed`; else the sender's top speed.
 * `limit`: stop after N packets.
 */
export interface ReplayRate { pps?: number; wireSpeed?: boolean; loops: number; limit?: number }

/** Runs tcpreplay in `ns` (async, so the caller's event loop keeps merging messages). */
export function tcpreplay(ns: string, iface: string, file: string, rate: ReplayRate, timeoutMs: number): Promise<ReplayOutcome> {
  const speed = rate.pps !== undefined ? [`--pps=${Math.round(rate.pps)}`] : rate.wireSpeed ? [] : ['--topspeed'];
  // --preload-pcap: the file is read into memory first, so disk reads never pace the send.
  const limit = rate.limit === undefined ? [] : [`--limit=${rate.limit}`];
  const args = ['netns', 'exec', ns, 'tcpreplay', '-i', iface, '--preload-pcap', `--loop=${rate.loops}`, ...limit, ...speed, file];
  return new Promise((resolve, reject) => {
    const child = spawn('ip', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => { out += d.toString(); });
    child.stderr.on('data', (d: Buffer) => { out += d.toString(); });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      const num = (re: RegExp): number | undefined => {
        const m = re.exec(out);
        return m ? Number(m[1]) : undefined;
      };
      const sent = num(/Successful packets:\s+(\d+)/);
      const actual = /Actual: (\d+) packets \((\d+) bytes\) sent in ([\d.]+) seconds/.exec(out);
      if (code !== 0 || sent === undefined || actual === null) {
        reject(new Error(`tcpreplay failed (${code}): ${out.slice(-400)}`));
        return;
      }
      const seconds = Number(actual[3]);
      const bytes = Number(actual[2]);
      resolve({
        sent, failed: num(/Failed packets:\s+(\d+)/) ?? 0, bytes, seconds,
        pps: num(/Rated: [\d.]+ Bps, [\d.]+ Mbps, ([\d.]+) pps/) ?? sent / seconds,
        gbps: seconds > 0 ? (bytes * 8) / seconds / 1e9 : 0,
      });
    });
    child.on('error', (e) => { clearTimeout(timer); reject(e); });
  });
}

/** Polls `progress()` until it reaches `target` or stops moving for `quietMs` (bounded by `maxMs`). */
export async function settle(progress: () => number, target: number, quietMs: number, maxMs: number): Promise<void> {
  const deadline = Date.now() + maxMs;
  let last = -1;
  let lastChange = Date.now();
  while (Date.now() < deadline) {
    const now = progress();
    if (now >= target) return;
    if (now !== last) { last = now; lastChange = Date.now(); }
    if (Date.now() - lastChange > quietMs) return;
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** What `--smoke` and a full run need of the machine; undefined when all is there. */
export function liveRequirement(): string | undefined {
  if (process.getuid?.() !== 0) return 'needs root (network namespaces, raw capture)';
  for (const tool of ['tcpreplay', 'ip', 'ethtool']) {
    if (spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0) return `needs ${tool}`;
  }
  return undefined;
}
