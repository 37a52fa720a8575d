import { spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openCapture } from '../../src/ingest/file-source.js';
import type { CaptureFormat } from '../../src/ingest/types.js';
import { epochToPicos, readBytes, run, toolAvailable, withTempDir } from './helpers.js';

let tmp: ReturnType<typeof withTempDir>;
const haveTools = toolAvailable('tcpdump') && toolAvailable('tshark') && toolAvailable('editcap') && toolAvailable('mergecap');
let original = '';

/** Captures 20 UDP datagrams we send to ourselves on 127.0.0.1 (bounded by timeouts). */
async function captureLoopback(): Promise<void> {
  const receiver = createSocket('udp4');
  await new Promise<void>((r) => receiver.bind(0, '127.0.0.1', () => r()));
  const port = receiver.address().port;
  const dump = spawn('tcpdump', ['-i', 'lo', '-c', '20', '-U', '-w', original, 'udp', 'and', 'dst', 'port', String(port)], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let ready = false;
  dump.stderr.on('data', (d: Buffer) => {
    if (d.toString().includes('listening')) ready = true;
  });
  const deadline = Date.now() + 10_000;
  while (!ready && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  const sender = createSocket('udp4');
  const exited = new Promise<void>((resolve) => dump.on('exit', () => resolve()));
  const timer = setTimeout(() => dump.kill('SIGTERM'), 20_000);
  let stop = false;
  void exited.then(() => (stop = true));
  try {
    // Varied sizes (one above the 1500-byte MTU of a real NIC; lo's MTU is 64 KiB).
    for (let i = 0; i < 200 && !stop; i++) {
      sender.send(Buffer.alloc(10 + ((i * 397) % 2000), i), port, '127.0.0.1');
      await new Promise((r) => setTimeout(r, 20));
    }
    await exited;
  } finally {
    clearTimeout(timer);
    sender.close();
    receiver.close();
  }
}

beforeAll(async () => {
  if (!haveTools) return;
  tmp = withTempDir();
  original = join(tmp.dir, 'lo.pcap');
  await captureLoopback();
  run('editcap', ['-F', 'pcapng', original, join(tmp.dir, 'lo.pcapng')]);
  run('editcap', ['-F', 'nsecpcap', original, join(tmp.dir, 'lo.ns.pcap')]);
  run('editcap', ['-F', 'modpcap', original, join(tmp.dir, 'lo.mod.pcap')]);
  // µs and ns captures merged into one pcapng: two interfaces with different if_tsresol.
  run('mergecap', ['-F', 'pcapng', '-w', join(tmp.dir, 'merged.pcapng'), original, join(tmp.dir, 'lo.ns.pcap')]);
}, 60_000);
afterAll(() => tmp?.cleanup());

function tsharkView(path: string): { ts: bigint; len: number; caplen: number }[] {
  return run('tshark', ['-r', path, '-T', 'fields', '-e', 'frame.time_epoch', '-e', 'frame.len', '-e', 'frame.cap_len'])
    .trim()
    .split('\n')
    .map((l) => {
      const [t, len, cap] = l.split('\t');
      return { ts: epochToPicos(t!), len: Number(len), caplen: Number(cap) };
    });
}

describe.skipIf(!haveTools)('captures written by tcpdump / editcap', () => {
  for (const [file, format] of [
    ['lo.pcap', 'pcap'],
    ['lo.ns.pcap', 'pcap'],
    ['lo.mod.pcap', 'pcap'],
    ['lo.pcapng', 'pcapng'],
    ['merged.pcapng', 'pcapng'],
  ] as [string, CaptureFormat][]) {
    it(`${file}: same timestamps and lengths as tshark reports, same bytes as the original`, async () => {
      const path = join(tmp.dir, file);
      const cap = await openCapture(path, { chunkSize: 1000 });
      expect(cap.format).toBe(format);
      const got: { ts: bigint; len: number; caplen: number; data: Uint8Array }[] = [];
      const ifaces: number[] = [];
      for await (const batch of cap.batches()) {
        for (const p of batch) {
          got.push({ ts: p.ts, len: p.wireLength, caplen: p.data.length, data: p.data.slice() });
          ifaces.push(p.iface);
        }
      }
      const n = file === 'merged.pcapng' ? 40 : 20;
      expect(got).toHaveLength(n);
      expect(got.map(({ ts, len, caplen }) => ({ ts, len, caplen }))).toEqual(tsharkView(path));
      expect(cap.stats).toMatchObject({ packets: n, malformedRecords: 0, truncated: false });
      const reference = readBytes(readFileSync(original)).packets.map((p) => p.data);
      const expectedData = n === 40 ? reference.flatMap((d) => [d, d]) : reference;
      expect(got.map((p) => Array.from(p.data))).toEqual(expectedData);
      if (n === 40) expect(new Set(ifaces)).toEqual(new Set([0, 1]));
    });
  }
});
