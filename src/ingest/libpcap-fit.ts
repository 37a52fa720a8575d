import { closeSync, openSync, readSync } from 'node:fs';
import { createRecordReader } from './formats/detect.js';
import { PcapngReader } from './formats/pcapng-reader.js';
import type { CaptureFormat } from './types.js';

/** libpcap refuses a record longer than this (max_snaplen_for_dlt for every link type we read). */
export const LIBPCAP_MAX_CAPLEN = 262_144;
const PS_PER_NS = 1_000;
const CHUNK = 1 << 20;

/**
 * Why libpcap (the `--workers` path reads files with it) would not deliver `path`
 * packet for packet as the pure-TS reader does, or undefined when it would. libpcap
 * gives up on the whole file at the first record it cannot read (a caplen above
 * 256 KiB, a record cut by the end of the file) where the TS reader resynchronises or
 * reports the cut and goes on; it refuses pcapng files whose sections change byte order
 * or whose interfaces differ in link type; it keeps nanoseconds only, and its time_t
 * seconds wrap in the ring's unsigned field before the epoch.
 *
 * One pass of the TS reader over the file without decoding and without an object per
 * packet; a regular, uncompressed pcap or pcapng file only.
 */
export function libpcapMisreads(path: string, format: CaptureFormat): string | undefined {
  let why: string | undefined;
  let linkTypeSeen = -1;
  const reader = createRecordReader(format, (_buf, _off, len, _wire, linkType, _iface, sec, psec) => {
    if (why !== undefined) return;
    if (len > LIBPCAP_MAX_CAPLEN) why = `a ${len}-byte record (libpcap stops above ${LIBPCAP_MAX_CAPLEN})`;
    else if (sec < 0) why = 'timestamps before 1970';
    else if (psec % PS_PER_NS !== 0) why = 'timestamps finer than a nanosecond';
    else if (linkTypeSeen >= 0 && linkType !== linkTypeSeen) why = `link types ${linkTypeSeen} and ${linkType} in one file`;
    linkTypeSeen = linkType;
  });
  const fd = openSync(path, 'r');
  try {
    const buf = new Uint8Array(CHUNK);
    for (let pos = 0; why === undefined;) {
      const n = readSync(fd, buf, 0, CHUNK, pos);
      if (n === 0) break;
      pos += n;
      reader.push(buf.subarray(0, n));
    }
  } finally {
    closeSync(fd);
  }
  if (why !== undefined) return why;
  reader.end();
  const s = reader.stats;
  if (s.truncated) return 'a record cut by the end of the file';
  if (s.malformedRecords > 0) return 'malformed records';
  if (reader instanceof PcapngReader && reader.sections > 1) return `${reader.sections} pcapng sections`;
  return undefined;
}
