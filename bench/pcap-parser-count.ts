/**
 * The `pcap-parser` npm package as a bench subject: parse the file, count the packets,
 * print the count (the bench checks it against the trace). This is the per-packet
 * event-callback way most Node.js pcap tools read a file, with no decoding on top:
 * a floor for what a JS reader built on it could do.
 */
import { createRequire } from 'node:module';

interface PcapParser {
  on(event: 'packet', listener: (packet: { data: Buffer }) => void): PcapParser;
  on(event: 'end', listener: () => void): PcapParser;
  on(event: 'error', listener: (err: Error) => void): PcapParser;
}
const pcapp = createRequire(import.meta.url)('pcap-parser') as { parse(input: string): PcapParser };

const path = process.argv[2];
if (!path) {
  process.stderr.write('usage: pcap-parser-count FILE\n');
  process.exit(2);
}
let packets = 0;
pcapp.parse(path)
  .on('packet', () => { packets++; })
  .on('end', () => { process.stdout.write(`${packets}\n`); })
  .on('error', (err) => { process.stderr.write(`pcap-parser: ${err.message}\n`); process.exitCode = 1; });
