import { setTimeout as sleep } from 'node:timers/promises';
import { jetstream } from '@nats-io/jetstream';
import { UsageError } from '../../core/errors.js';
import type { Picos } from '../../core/time.js';
import { openCapture } from '../../ingest/file-source.js';
import { MeasurementPoint, type MeasurementPointOptions } from '../measurement-point.js';
import { decodeRecords, encodeRecords, type MpRecord } from '../records.js';
import { JetStreamPublisher, type PublisherCounts, type PublisherOptions } from './publisher.js';
import { connectNats, ensureStreams, RECORD_STREAM, recordSubject } from './streams.js';

/** Records per NATS message at most (a sightings record is ~20 kB: 64 stay far below 1 MB). */
const BATCH = 32;

export interface AgentOptions extends MeasurementPointOptions, PublisherOptions {
  url: string;
  mp: string;
  /**
   * Replay the sources from their start and publish only what the MP's subject does
   * not hold yet (an agent restarted on the same files). Without it, numbering goes on
   * after the MP's last stored record (a new capture by the same MP).
   */
  resume?: boolean;
  /** Pace packets to their wire time divided by this (1 = real time). */
  speed?: number;
  signal?: AbortSignal;
  /** Called once per published record (tests, progress). */
  onRecord?: (r: MpRecord) => void;
}

export interface AgentSummary {
  mp: string;
  packets: number;
  records: number;
  /** Records not published again because the stream already held them (--resume). */
  skipped: number;
  firstSeq: number;
  lastSeq: number;
  publisher: PublisherCounts;
  aborted: boolean;
}

/**
 * `migscope agent FILE… --publish URL --mp NAME`: dissects the capture locally and
 * publishes the MP's records to JetStream (docs/agents.md). Several files are one MP's
 * capture in time order, read one after the other.
 */
export async function runAgent(files: readonly string[], opts: AgentOptions): Promise<AgentSummary> {
  if (files.length === 0) throw new UsageError('no SOURCE given');
  if (opts.mp.length === 0 || opts.mp.length > 200) throw new UsageError('--mp NAME: 1 to 200 characters');
  for (const f of files) if (/^(dpmi-)?iface:/.test(f)) throw new UsageError(`${f}: the agent reads capture files (live sources: not yet)`);
  const nc = await connectNats(opts.url, `migscope-agent-${opts.mp}`, { signal: opts.signal });
  const subject = recordSubject(opts.mp);
  try {
    const jsm = await ensureStreams(nc);
    const publisher = new JetStreamPublisher(jetstream(nc), opts);
    const stored = await lastStoredSeq(jsm, subject);
    const skipUpTo = opts.resume ? stored : 0;
    let records = 0;
    let skipped = 0;
    let pending: MpRecord[] = [];
    const mp = new MeasurementPoint(opts.mp, (r) => pending.push(r), { ...opts, firstSeq: opts.resume ? 0 : stored });
    const publishPending = async (): Promise<void> => {
      const batch = pending.filter((r) => r.seq > skipUpTo);
      skipped += pending.length - batch.length;
      pending = [];
      for (let i = 0; i < batch.length; i += BATCH) {
        const run = batch.slice(i, i + BATCH);
        records += run.length;
        await publisher.push(subject, encodeRecords(run), `${opts.mp}/${run[0]!.seq}-${run.at(-1)!.seq}`);
        if (opts.onRecord) for (const r of run) opts.onRecord(r);
      }
    };
    let packets = 0;
    let aborted = false;
    const pace = opts.speed !== undefined ? pacer(opts.speed) : undefined;
    outer: for (const path of files) {
      const file = await openCapture(path);
      try {
        for await (const batch of file.batches()) {
          for (const pkt of batch) {
            if (opts.signal?.aborted) { aborted = true; break outer; }
            if (pace) await pace(pkt.ts);
            mp.packet(pkt);
            packets++;
            if (pending.length >= BATCH || pace) await publishPending();
          }
          mp.heartbeat();
          await publishPending();
        }
      } finally {
        await file.close();
      }
    }
    if (!aborted) mp.finish();
    await publishPending();
    await Promise.race([publisher.flush(), abortedPromise(opts.signal)]);
    publisher.close();
    return {
      mp: opts.mp, packets, records, skipped, firstSeq: stored + 1, lastSeq: mp.lastSeq,
      publisher: { ...publisher.counts }, aborted,
    };
  } finally {
    await nc.close();
  }
}

/** The sequence number of the last record JetStream holds for this MP (0: none). */
async function lastStoredSeq(jsm: Awaited<ReturnType<typeof ensureStreams>>, subject: string): Promise<number> {
  let m;
  try {
    m = await jsm.streams.getMessage(RECORD_STREAM, { last_by_subj: subject });
  } catch {
    return 0;
  }
  if (!m) return 0;
  const r = decodeRecords(m.data);
  return typeof r === 'string' || r.length === 0 ? 0 : r.at(-1)!.seq;
}

function abortedPromise(signal: AbortSignal | undefined): Promise<void> {
  if (!signal) return new Promise(() => {});
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
}

/** Sleeps so that packets go out at their wire time divided by `speed`. */
function pacer(speed: number): (ts: Picos) => Promise<void> {
  let first: Picos | undefined;
  const start = performance.now();
  return async (ts) => {
    first ??= ts;
    const due = Number((ts - first) / 1_000_000n) / 1e3 / speed;
    const ahead = due - (performance.now() - start);
    if (ahead > 2) await sleep(ahead);
  };
}
