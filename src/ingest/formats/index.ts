export { createCaptureWriter, WRITE_RESOLUTION } from './writers.js';
export { fileSink, memorySink, type MemorySink } from './sink.js';
export type { CaptureWriterOptions, DpmiFrameOptions, StatsCaptureWriter, WriterStats } from './writer-common.js';
export { PcapWriter, PCAP_MAGIC_NS, PCAP_MAGIC_US } from './pcap-writer.js';
export { PcapngWriter, type PcapngInterface } from './pcapng-writer.js';
export { DpmiFileWriter, dpmiFileHeader } from './dpmi-writer.js';
export { DpmiFramesWriter } from '../dpmi/frame-writer.js';
