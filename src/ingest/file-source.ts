import { createReadStream, readSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { MigscopeError, SourceNotFoundError, UnknownFormatError } from '../core/errors.js';
import { DpmiUnpacker, type DpmiFrameStats } from './dpmi/frames.js';
import { createRecordReader, describeMagic, detectFormat, DETECT_BYTES } from './formats/detect.js';
import { PacketBatch } from './batch.js';
import { PCAP_FILE_HEADER, PcapReader } from './formats/pcap-reader.js';
import type { CaptureFormat, CapturedPacket, ReaderStats } from './types.js';

export interface OpenCaptureOptions {
  /** Unpack DPMI measurement frames (EtherType 0x0810) into the packets they carry. Default true. */
  unpackDpmiFrames?: boolean;
  /** Bytes per read, default 128 KiB (see readChunks); per mapped window, default MAP_WINDOW. */
  chunkSize?: number;
  /**
   * Read the file in place from a mapping (see mapped-file.ts) instead of read() copies.
   * Default: the MIGSCOPE_FILE_IO=mmap environment setting, else off — on the 2-core VM
   * this was measured on (4 KiB pages under EPT), walking fresh mapped pages cost more
   * than copying through an L2-sized buffer (1 GB capture, in-process, 4 runs each:
   * mapped 0.93–1.38 s CPU, read() 0.84–1.29 s); `npm run bench` measures both.
   */
  map?: boolean;
  /**
   * A pcap file read from a record on (a file worker whose native record walk handed
   * over there, src/ingest/record-index.ts): the file header, then the bytes from
   * `offset`, the reader knowing the previous record's second (`lastSec`, -1: none).
   * Stats count from there.
   */
  resume?: { offset: number; lastSec: number };
}

export interface CaptureFile {
  format: CaptureFormat;
  path: string;
  /** Whether the file was gzip-compressed. */
  gzip: boolean;
  /** Whether it is read in place from a mapping (else through read() or gunzip). */
  mapped: boolean;
  /** Delivered packets and every loss (reader and DPMI-frame level), live while iterating. */
  readonly stats: ReaderStats;
  /** DPMI measurement-frame counters (all zero when the file holds none). */
  readonly frameStats: DpmiFrameStats;
  /** First problem the reader or frame unpacker met, for a one-line report. */
  readonly problem: string | undefined;
  /**
   * Packets in file order, in batches. A batch's `data` views stay valid until the next
   * iteration step, so a consumer may await between batches. Iterate once (this or
   * packetBatches()).
   */
  batches(): AsyncIterable<readonly CapturedPacket[]>;
  /**
   * The same packets as struct-of-arrays batches (no object, view or BigInt per packet):
   * the analysis hot path. One PacketBatch object is refilled at every step.
   */
  packetBatches(): AsyncIterable<PacketBatch>;
  /** Releases the file when batches() is not run to its end. */
  close(): Promise<void>;
}

const GZIP_MAGIC = [0x1f, 0x8b];

/**
 * Bytes per window of a mapped file, and so per batch. Small enough that a batch's bytes
 * are still in the L2 cache when the dissector reads them after the reader's pass:
 * measured on a 1 GB capture, min CPU of 5 runs, 128 KiB windows 1.32 s, 8 MiB 1.56 s.
 */
export const MAP_WINDOW = 256 << 10;

async function openFile(path: string): Promise<FileHandle> {
  try {
    return await open(path, 'r');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new SourceNotFoundError(`capture file not found: ${path}`, { cause: err });
    if (code === 'EACCES' || code === 'EPERM') {
      throw new MigscopeError(`permission denied reading capture file ${path}`, { cause: err });
    }
    throw new MigscopeError(`cannot open capture file ${path}: ${(err as Error).message}`, { cause: err });
  }
}

/** Byte chunks of the file: a reused read buffer, or gunzip output for .gz files. */
type ChunkSource = () => AsyncIterator<Uint8Array>;

/** Opens a capture file, detecting its format from the magic bytes (gzip transparently).
 *  `-` is standard input; a pipe, FIFO or socket is read as a stream (no seeking). */
export async function openCapture(path: string, opts: OpenCaptureOptions = {}): Promise<CaptureFile> {
  const chunkSize = Math.max(64, opts.chunkSize ?? 128 << 10);
  const windowSize = Math.max(64, opts.chunkSize ?? MAP_WINDOW);
  // stdin may be a socket (spawn's 'pipe'), which /dev/stdin cannot open: read fd 0 itself.
  const fh = path === STDIN || path === '/dev/stdin' ? undefined : await openFile(path);
  const stream = (start?: number): AsyncIterator<Uint8Array> => (fh
    ? fh.createReadStream({ autoClose: false, highWaterMark: chunkSize, ...(start !== undefined ? { start } : {}) })
    : createReadStream('', { fd: 0, autoClose: false, highWaterMark: chunkSize }))[Symbol.asyncIterator]() as AsyncIterator<Uint8Array>;
  let closed = false;
  let close = async (): Promise<void> => {
    if (closed) return;
    closed = true;
    await fh?.close();
  };
  try {
    const seekable = fh !== undefined && (await fh.stat()).isFile();
    let chunks: ChunkSource;
    let first: Uint8Array;
    let gzip: boolean;
    if (seekable) {
      const head = new Uint8Array(DETECT_BYTES);
      const { bytesRead } = await fh.read(head, 0, DETECT_BYTES, 0);
      first = head.subarray(0, bytesRead);
      gzip = isGzip(first);
      const resume = opts.resume;
      chunks = gzip ? () => stream(0) : resume ? () => afterHeader(first, fh, chunkSize, resume.offset) : () => readChunks(fh, chunkSize);
    } else {
      // A pipe cannot be read twice: the bytes pulled to look at the magic are replayed.
      const raw = await peek(stream());
      first = raw.first;
      gzip = isGzip(first);
      chunks = () => replayThen(raw.pulled, raw.rest);
    }
    if (gzip) {
      // zlib and streams are loaded for compressed captures only (start-up of the common case).
      const [{ Readable }, { createGunzip }] = await Promise.all([import('node:stream'), import('node:zlib')]);
      const compressed = Readable.from({ [Symbol.asyncIterator]: chunks });
      const inflated = await peek(compressed.pipe(createGunzip({ chunkSize }))[Symbol.asyncIterator]() as AsyncIterator<Uint8Array>);
      first = inflated.first;
      chunks = () => replayThen(inflated.pulled, inflated.rest);
    }
    const format = detectFormat(first);
    if (!format) throw new UnknownFormatError(`${path}: not a pcap, pcapng or DPMI capture (${describeMagic(first)})`);
    if (opts.resume && (format !== 'pcap' || gzip || !seekable)) throw new MigscopeError(`${path}: only a pcap file can be resumed at a record`);
    const mapping = gzip || !seekable || opts.resume || !(opts.map ?? process.env.MIGSCOPE_FILE_IO === 'mmap')
      ? undefined : (await import('./mapped-file.js')).mapCaptureFile(path); // the addon only when asked
    if (mapping) {
      chunks = () => asAsync(mapping.windows(windowSize));
      const closeFile = close;
      close = async () => { mapping.close(); await closeFile(); };
    }
    return makeCaptureFile(path, format, gzip, mapping !== undefined, chunks, opts.unpackDpmiFrames ?? true, close, opts.resume?.lastSec);
  } catch (err) {
    await close();
    if (err instanceof MigscopeError) throw err;
    throw new MigscopeError(`cannot read capture file ${path}: ${(err as Error).message}`, { cause: err });
  }
}

/** The source name of standard input. */
export const STDIN = '-';

function isGzip(first: Uint8Array): boolean {
  return first.length >= 2 && first[0] === GZIP_MAGIC[0] && first[1] === GZIP_MAGIC[1];
}

/** Pulls chunks until DETECT_BYTES are in hand (or the input ends), to detect the format. */
async function peek(it: AsyncIterator<Uint8Array>): Promise<{ first: Uint8Array; pulled: Uint8Array[]; rest: AsyncIterator<Uint8Array> }> {
  const pulled: Uint8Array[] = [];
  let have = 0;
  while (have < DETECT_BYTES) {
    const r = await it.next();
    if (r.done) break;
    pulled.push(r.value);
    have += r.value.length;
  }
  return { first: Buffer.concat(pulled).subarray(0, DETECT_BYTES), pulled, rest: it };
}

async function* asAsync<T>(it: Iterable<T>): AsyncGenerator<T> {
  yield* it;
}

async function* replayThen(pulled: Uint8Array[], rest: AsyncIterator<Uint8Array>): AsyncGenerator<Uint8Array> {
  yield* pulled;
  for (;;) {
    const r = await rest.next();
    if (r.done) return;
    yield r.value;
  }
}

/**
 * File chunks, read synchronously into one reused buffer when the consumer asks for the
 * next chunk (so it is done with the packets viewing the previous one: the batches()
 * contract). Measured on a 2.8 GB capture in the page cache: 128 KiB reads take 0.5–0.9 s
 * in all, 256 KiB–1 MiB reads 2.2–3.3 s (the copy no longer fits the L2 cache, and the
 * parser then reads the chunk from memory again); async reads cost ~100 µs each in
 * thread-pool round trips, more than the 20 µs copy itself. A read blocks the event loop
 * for those ~20 µs only.
 */
async function* readChunks(fh: FileHandle, chunkSize: number, from = 0): AsyncGenerator<Uint8Array> {
  const buf = new Uint8Array(chunkSize);
  let position = from;
  for (;;) {
    const bytesRead = readSync(fh.fd, buf, 0, chunkSize, position);
    if (bytesRead === 0) return;
    position += bytesRead;
    yield buf.subarray(0, bytesRead);
  }
}

/** A pcap file's header, then its records from `offset` (see OpenCaptureOptions.resume). */
async function* afterHeader(first: Uint8Array, fh: FileHandle, chunkSize: number, offset: number): AsyncGenerator<Uint8Array> {
  yield first.slice(0, PCAP_FILE_HEADER);
  yield* readChunks(fh, chunkSize, offset);
}

function makeCaptureFile(
  path: string,
  format: CaptureFormat,
  gzip: boolean,
  mapped: boolean,
  chunks: ChunkSource,
  unpack: boolean,
  close: () => Promise<void>,
  resumeLastSec?: number,
): CaptureFile {
  const batch = new PacketBatch();
  const unpacker = new DpmiUnpacker(batch.add);
  const reader = createRecordReader(format, unpack ? unpacker.records : batch.add);
  if (resumeLastSec !== undefined && reader instanceof PcapReader) reader.resumeAfter(resumeLastSec);
  let delivered = 0;
  let deliveredBytes = 0;
  let started = false;
  let sourceProblem: string | undefined;
  let gzipCut = false;
  const counted = (b: PacketBatch): PacketBatch => {
    delivered += b.length;
    for (let i = 0; i < b.length; i++) deliveredBytes += b.len[i]!;
    return b;
  };
  const packetBatches = (): AsyncGenerator<PacketBatch> => {
    if (started) throw new MigscopeError(`${path}: batches() may be iterated only once`);
    started = true;
    return run();
  };
  async function* run(): AsyncGenerator<PacketBatch> {
    try {
      for await (const chunk of { [Symbol.asyncIterator]: chunks }) {
        batch.clear();
        reader.push(chunk);
        if (batch.length > 0) yield counted(batch);
      }
      batch.clear();
      reader.end();
      if (batch.length > 0) yield counted(batch);
    } catch (err) {
      if (err instanceof MigscopeError) throw err;
      // A damaged or cut .gz: keep what decompressed, report it like a truncated capture.
      if (gzip && String((err as NodeJS.ErrnoException).code ?? '').startsWith('Z_')) {
        gzipCut = true;
        sourceProblem = `${path}: gzip stream damaged or cut (${(err as Error).message})`;
        batch.clear();
        reader.end();
        if (batch.length > 0) yield counted(batch);
        return;
      }
      throw new MigscopeError(`${path}: read failed: ${(err as Error).message}`, { cause: err });
    } finally {
      await close();
    }
  }
  return {
    format,
    path,
    gzip,
    mapped,
    get stats(): ReaderStats {
      const r = reader.stats;
      const f = unpacker.stats;
      return {
        packets: delivered,
        bytes: deliveredBytes,
        malformedRecords: r.malformedRecords + f.malformedFrames,
        truncated: r.truncated || gzipCut,
        lostFrames: f.lostFrames,
        duplicateFrames: f.duplicateFrames,
        skippedBytes: (r.skippedBytes ?? 0) + f.skippedBytes,
        timesOutOfRange: r.timesOutOfRange ?? 0,
      };
    },
    frameStats: unpacker.stats,
    get problem(): string | undefined {
      return sourceProblem ?? reader.problem ?? unpacker.problem;
    },
    close,
    packetBatches,
    batches(): AsyncIterable<readonly CapturedPacket[]> {
      const it = packetBatches();
      return (async function* () {
        for await (const b of it) {
          const out: CapturedPacket[] = new Array<CapturedPacket>(b.length);
          for (let i = 0; i < b.length; i++) out[i] = b.packet(i);
          yield out;
        }
      })();
    },
  };
}
