/**
 * The `cap` package's capture path, as a user of it would write it: one libpcap handle,
 * one JS 'packet' callback per packet into a single reused Buffer. Run by bench/live.ts
 * inside the receiving namespace (`ip netns exec NS node dist/bench/live-cap-child.js`),
 * since cap has no way to open a device in another namespace.
 *
 *   argv: IFACE BUFFER_BYTES decode|count
 *   stdout: "ready" once open, then one JSON line {packets,bytes,messages} every 100 ms
 *   and a last one (final: true) after SIGINT.
 */
import { createRequire } from 'node:module';
import { Dissector } from '../src/dissect/dissector.js';
import { LinkType } from '../src/ingest/types.js';

interface CapHandle {
  open(device: string, filter: string, bufSize: number, buffer: Buffer): string;
  close(): void;
  on(event: 'packet', cb: (nbytes: number, truncated: boolean) => void): void;
}
interface CapModule { Cap: new () => CapHandle }

export interface CapChildReport {
  packets: number;
  bytes: number;
  /** Protocol messages from the Dissector (0 in count mode). */
  messages: number;
  /** CPU time of this process so far (user + system, µs). */
  cpuUs: number;
  final?: boolean;
}

const [iface, bufText, mode] = process.argv.slice(2);
if (iface === undefined || bufText === undefined || (mode !== 'decode' && mode !== 'count')) {
  process.stderr.write('usage: live-cap-child IFACE BUFFER_BYTES decode|count\n');
  process.exit(2);
}

const { Cap } = createRequire(import.meta.url)('cap') as CapModule;
const report: CapChildReport = { packets: 0, bytes: 0, messages: 0, cpuUs: 0 };
const dissector = mode === 'decode' ? new Dissector(() => { report.messages++; }) : undefined;
// cap reuses one Buffer for every packet (its own per-packet copy out of libpcap).
const buffer = Buffer.alloc(65536);
const cap = new Cap();
const linkType = cap.open(iface, '', Number(bufText), buffer);
if (linkType !== 'ETHERNET') throw new Error(`expected an Ethernet device, got ${linkType}`);

// cap hands out no timestamp: the Dissector gets the arrival time, as a cap user would.
const epochNs = BigInt(Date.now()) * 1_000_000n - process.hrtime.bigint();
cap.on('packet', (nbytes) => {
  report.packets++;
  report.bytes += nbytes;
  if (dissector) {
    dissector.packet({
      ts: (epochNs + process.hrtime.bigint()) * 1000n,
      data: buffer.subarray(0, nbytes), wireLength: nbytes, linkType: LinkType.Ethernet, iface: 0,
    });
  }
});

const line = (r: CapChildReport): void => {
  const c = process.cpuUsage();
  process.stdout.write(`${JSON.stringify({ ...r, cpuUs: c.user + c.system })}\n`);
};
const ticker = setInterval(() => line(report), 100);
process.once('SIGINT', () => {
  clearInterval(ticker);
  cap.close();
  dissector?.finish();
  line({ ...report, final: true });
  process.exitCode = 0;
});
process.stdout.write('ready\n');
