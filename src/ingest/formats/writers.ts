import type { ByteSink, WriteFormat } from '../types.js';
import { DpmiFramesWriter } from '../dpmi/frame-writer.js';
import { DpmiFileWriter } from './dpmi-writer.js';
import { PcapWriter } from './pcap-writer.js';
import { PcapngWriter } from './pcapng-writer.js';
import type { CaptureWriterOptions, StatsCaptureWriter } from './writer-common.js';

/** Timestamp resolution (ps) of each format we write. */
export const WRITE_RESOLUTION: Readonly<Record<WriteFormat, bigint>> = {
  pcap: 1_000_000n,
  'pcap-ns': 1_000n,
  pcapng: 1_000n,
  dpmi: 1n,
  'dpmi-frames': 1n,
};

/** The writer for `format`; it owns `sink` and closes it on close(). */
export function createCaptureWriter(
  format: WriteFormat,
  sink: ByteSink,
  opts: CaptureWriterOptions = {},
): StatsCaptureWriter {
  switch (format) {
    case 'pcap':
      return new PcapWriter(sink, false, opts);
    case 'pcap-ns':
      return new PcapWriter(sink, true, opts);
    case 'pcapng':
      return new PcapngWriter(sink, opts);
    case 'dpmi':
      return new DpmiFileWriter(sink, opts);
    case 'dpmi-frames':
      return new DpmiFramesWriter(sink, opts);
  }
}
