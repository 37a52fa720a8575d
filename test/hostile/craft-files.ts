/**
 * Crafting hostile capture files for the test/hostile suites: clean traces from the
 * generator (their truth is known), raw pcap / pcapng / DPMI bytes with any header field
 * set by hand, and a CLI runner that checks the one-line error contract.
 */
import { spawn } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { expect } from 'vitest';
import { writeTrace } from '../../src/generate/write-trace.js';
import type { GenerateOptions, GroundTruth } from '../../src/generate/types.js';
import { host } from '../../src/generate/wire/ethernet-ip.js';
import { concatBytes as concat } from '../../src/generate/wire/amqp.js';
import { pingFlow } from '../../src/generate/wire/icmp.js';
import { tcpConnection, type TcpMessage } from '../../src/generate/wire/tcp-connection.js';
import { Rng } from '../../src/generate/rng.js';
import { memorySink } from '../../src/ingest/formats/sink.js';
import { PcapWriter } from '../../src/ingest/formats/pcap-writer.js';
import { createCaptureReader, detectFormat } from '../../src/ingest/formats/detect.js';
import type { ReaderStats, WriteFormat } from '../../src/ingest/types.js';

export { concat };

export const root = resolve(__dirname, '../..');
export const cli = join(root, 'bin/migscope.js');

export function tempDir(): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'migscope-hostile-'));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** A small generated KVM migration (its truth beside it): the clean reference. */
export function cleanTrace(dir: string, name: string, format: WriteFormat = 'pcap', opts: Partial<GenerateOptions> = {}): { file: string; truth: GroundTruth } {
  const file = join(dir, name);
  const truth = writeTrace(file, { scenario: 'kvm', payloadScale: 0.002, seed: 3, ...opts }, format);
  return { file, truth };
}

/** One pcap record as written, header fields free (a hostile file sets any of them). */
export interface RawRecord {
  sec: number;
  frac: number;
  caplen: number;
  orig: number;
  data: Uint8Array;
}

/** The records of a little-endian pcap file (24-byte header, 16-byte record headers). */
export function pcapRecords(bytes: Uint8Array): { header: Uint8Array; records: RawRecord[] } {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const records: RawRecord[] = [];
  let off = 24;
  while (off + 16 <= bytes.length) {
    const caplen = dv.getUint32(off + 8, true);
    records.push({
      sec: dv.getUint32(off, true), frac: dv.getUint32(off + 4, true), caplen, orig: dv.getUint32(off + 12, true),
      data: bytes.slice(off + 16, off + 16 + caplen),
    });
    off += 16 + caplen;
  }
  return { header: bytes.slice(0, 24), records };
}

/** Serialises records as given: a record's caplen field need not match its data. */
export function pcapBytes(header: Uint8Array, records: readonly RawRecord[]): Uint8Array {
  const size = records.reduce((n, r) => n + 16 + r.data.length, header.length);
  const out = new Uint8Array(size);
  const dv = new DataView(out.buffer);
  out.set(header, 0);
  let off = header.length;
  for (const r of records) {
    dv.setUint32(off, r.sec, true);
    dv.setUint32(off + 4, r.frac, true);
    dv.setUint32(off + 8, r.caplen, true);
    dv.setUint32(off + 12, r.orig, true);
    out.set(r.data, off + 16);
    off += 16 + r.data.length;
  }
  return out;
}

/** `n` ICMP echo requests and replies (a ping every ms), as a pcap file's bytes. */
export function icmpEchoPcap(n: number): Uint8Array {
  const sink = memorySink();
  const w = new PcapWriter(sink, false);
  const start = 1_795_000_000_000_000_000_000n;
  const interval = 1_000_000_000n;
  const plan = {
    client: host('10.0.0.1', '02:00:00:00:00:01'), vm: host('10.0.0.2', '02:00:00:00:00:02'), ident: 7,
    start, end: start + BigInt(Math.ceil(n / 2)) * interval, interval,
    replyDelayBefore: 100_000_000n, replyDelayAfter: 100_000_000n, pauseAt: undefined, resumeAt: undefined, resolution: 1_000_000n,
  };
  const stats = { requests: 0, replies: 0, lastReplyBeforePause: undefined, firstReplyAfterResume: undefined, lost: 0 };
  for (const p of pingFlow(plan, stats)) w.write(p.ts, p.frame);
  w.close();
  return sink.bytes();
}

export interface CliResult { code: number | null; stdout: string; stderr: string; stdoutBytes: Buffer }

/**
 * Runs `migscope ARGS`. `stdout: '/dev/full'` (or any path) sends stdout to that file
 * instead of a pipe; `stdin` is written to its stdin.
 */
export function runCli(args: string[], opts: { stdout?: string; stdin?: Uint8Array; env?: Record<string, string> } = {}): Promise<CliResult> {
  return new Promise((resolvePromise, reject) => {
    const fd = opts.stdout !== undefined ? openSync(opts.stdout, 'w') : undefined;
    const child = spawn(process.execPath, [cli, ...args], {
      stdio: [opts.stdin ? 'pipe' : 'ignore', fd ?? 'pipe', 'pipe'],
      env: { ...process.env, ...opts.env },
    });
    if (fd !== undefined) closeSync(fd);
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout?.on('data', (b: Buffer) => out.push(b));
    child.stderr!.on('data', (b: Buffer) => err.push(b));
    if (opts.stdin) {
      child.stdin!.on('error', () => {}); // a child that stops reading early is what some tests check
      child.stdin!.end(opts.stdin);
    }
    const timer = setTimeout(() => child.kill('SIGKILL'), 120_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      const bytes = Buffer.concat(out);
      resolvePromise({ code, stdout: bytes.toString('utf8'), stderr: Buffer.concat(err).toString('utf8'), stdoutBytes: bytes });
    });
  });
}

/** The CLI's error contract: exactly one line on stderr, no stack trace. */
export function expectOneLine(stderr: string, want: RegExp, what = ''): void {
  const lines = stderr.trimEnd().split('\n');
  expect(lines, `${what}: ${stderr}`).toHaveLength(1);
  expect(stderr, what).toMatch(want);
  expect(stderr, what).not.toMatch(/^\s+at /m);
}

/**
 * NDJSON text → records, without the closing `summary` record (it describes the run —
 * source, path, reader counts — so it differs between paths that agree on every event).
 */
export function ndjson(text: string): Record<string, unknown>[] {
  return text.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as Record<string, unknown>)
    .filter((r) => r.type !== 'summary');
}

export function readBytes(path: string): Uint8Array {
  return new Uint8Array(readFileSync(path));
}

/** One side's application writes on a crafted TCP connection: (time offset in ms, bytes). */
export type Writes = readonly (readonly [number, Uint8Array])[];

/**
 * A complete TCP connection client:40000 → server:`port` (handshake, segmentation,
 * ACKs, FIN) carrying the given writes, as a pcap file's bytes.
 */
export function tcpConversationPcap(port: number, client: Writes, server: Writes): Uint8Array {
  const start = 1_795_000_000_000_000_000_000n;
  const ms = (n: number): bigint => start + BigInt(Math.round(n * 1e9));
  const messages = (w: Writes): Iterator<TcpMessage> => w.map(([t, bytes]) => ({ t: ms(t), bytes }))[Symbol.iterator]();
  const last = Math.max(...[...client, ...server].map(([t]) => t));
  const packets = tcpConnection({
    client: host('10.0.0.1', '02:00:00:00:00:01'), server: host('10.0.0.3', '02:00:00:00:00:03'),
    clientPort: 40000, serverPort: port, synAt: start, clientMessages: messages(client), serverMessages: messages(server),
    close: { at: ms(last + 10), by: 'client' }, clientDelay: 50_000_000n, serverDelay: 100_000_000n,
    linkBps: 1e9, resolution: 1_000_000n, rng: new Rng(1),
  });
  const sink = memorySink();
  const w = new PcapWriter(sink, false);
  for (const p of packets) w.write(p.ts, p.frame);
  w.close();
  return sink.bytes();
}

/** A packet of a crafted pcapng section: interface index, time (ps), frame bytes. */
export interface NgPacket { iface: number; ts: bigint; data: Uint8Array }

export interface NgInterface {
  linkType: number;
  /** if_tsresol byte (default 6: µs). */
  tsresol?: number;
  /** if_tsoffset in seconds (signed 64 bits), added to every timestamp. */
  tsoffsetS?: bigint;
}

/**
 * One pcapng section (SHB, IDBs, EPBs) in either byte order; sections concatenate into
 * a file. Timestamps are written as ticks of each interface's resolution, minus its offset.
 */
export function pcapngSection(opts: { bigEndian?: boolean; interfaces: NgInterface[]; packets: NgPacket[] }): Uint8Array {
  const le = !opts.bigEndian;
  const blocks: Uint8Array[] = [];
  const block = (type: number, body: Uint8Array): void => {
    const len = 12 + ((body.length + 3) & ~3);
    const b = new Uint8Array(len);
    const dv = new DataView(b.buffer);
    dv.setUint32(0, type, le);
    dv.setUint32(4, len, le);
    b.set(body, 8);
    dv.setUint32(len - 4, len, le);
    blocks.push(b);
  };
  const shb = new DataView(new ArrayBuffer(16));
  shb.setUint32(0, 0x1a2b3c4d, le);
  shb.setUint16(4, 1, le);
  shb.setBigInt64(8, -1n, le);
  block(0x0a0d0d0a, new Uint8Array(shb.buffer));
  for (const i of opts.interfaces) {
    const idb = new DataView(new ArrayBuffer(8 + 8 + 12 + 4));
    idb.setUint16(0, i.linkType, le);
    idb.setUint32(4, 262_144, le);
    idb.setUint16(8, 9, le); // if_tsresol
    idb.setUint16(10, 1, le);
    idb.setUint8(12, i.tsresol ?? 6);
    idb.setUint16(16, 14, le); // if_tsoffset
    idb.setUint16(18, 8, le);
    idb.setBigInt64(20, i.tsoffsetS ?? 0n, le);
    block(0x00000001, new Uint8Array(idb.buffer)); // ends with opt_endofopt (zeros)
  }
  for (const p of opts.packets) {
    const i = opts.interfaces[p.iface]!;
    const r = i.tsresol ?? 6;
    const perTick = (10n ** 12n) / (10n ** BigInt(r));
    const ticks = (p.ts - (i.tsoffsetS ?? 0n) * 10n ** 12n) / perTick;
    const epb = new Uint8Array(20 + p.data.length);
    const dv = new DataView(epb.buffer);
    dv.setUint32(0, p.iface, le);
    dv.setUint32(4, Number(BigInt.asUintN(64, ticks) >> 32n), le);
    dv.setUint32(8, Number(BigInt.asUintN(32, ticks)), le);
    dv.setUint32(12, p.data.length, le);
    dv.setUint32(16, p.data.length, le);
    epb.set(p.data, 20);
    block(0x00000006, epb);
  }
  return concat(blocks);
}


/** The packets of a clean µs pcap as pcapng packets on interface `iface`. */
export function ngPackets(pcap: Uint8Array, iface = 0): NgPacket[] {
  return pcapRecords(pcap).records.map((r) => ({ iface, ts: BigInt(r.sec) * 10n ** 12n + BigInt(r.frac) * 10n ** 6n, data: r.data }));
}

/** A packet as read back: time, link type and bytes (base64), for comparing whole files. */
export interface ReadBack { ts: bigint; linkType: number; data: string }

/**
 * Reads capture bytes with the reader of their format, pushed in `chunk`-byte pieces
 * (1 = a byte at a time), and returns the packets with the reader's counters.
 */
export function readBack(bytes: Uint8Array, chunk = bytes.length): { packets: ReadBack[]; stats: ReaderStats; problem: string | undefined } {
  const format = detectFormat(bytes);
  if (!format) throw new Error('not a capture');
  const packets: ReadBack[] = [];
  const reader = createCaptureReader(format, (p) => packets.push({ ts: p.ts, linkType: p.linkType, data: Buffer.from(p.data).toString('base64') }));
  for (let off = 0; off < bytes.length; off += chunk) reader.push(bytes.subarray(off, off + chunk));
  reader.end();
  return { packets, stats: reader.stats, problem: reader.problem };
}

/** Offsets of the records of a little-endian pcap (after the 24-byte header) or DPMI file (after its header and comment). */
export function recordOffsets(bytes: Uint8Array, format: 'pcap' | 'dpmi'): number[] {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const [first, header, caplenAt] = format === 'pcap' ? [24, 16, 8] : [dv.getUint16(12, true) + dv.getUint16(14, true), 36, 32];
  const out: number[] = [];
  for (let off = first; off + header <= bytes.length; off += header + dv.getUint32(off + caplenAt, true)) out.push(off);
  return out;
}

/** A copy of `bytes` with the 32-bit little-endian field at `at` set to `value`. */
export function withU32(bytes: Uint8Array, at: number, value: number): Uint8Array {
  const out = bytes.slice();
  new DataView(out.buffer).setUint32(at, value >>> 0, true);
  return out;
}
