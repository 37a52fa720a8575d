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
import { pingFlow } from '../../src/generate/wire/icmp.js';
import { memorySink } from '../../src/ingest/formats/sink.js';
import { PcapWriter } from '../../src/ingest/formats/pcap-writer.js';
import type { WriteFormat } from '../../src/ingest/types.js';

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

export interface CliResult { code: number | null; stdout: string; stderr: string }

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
      resolvePromise({ code, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') });
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

/** NDJSON text → records. */
export function ndjson(text: string): Record<string, unknown>[] {
  return text.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as Record<string, unknown>);
}

export function readBytes(path: string): Uint8Array {
  return new Uint8Array(readFileSync(path));
}
