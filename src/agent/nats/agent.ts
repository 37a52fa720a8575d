import { setTimeout as sleep } from 'node:timers/promises';
import { jetstream } from '@nats-io/jetstream';
import { UsageError } from '../../core/errors.js';
import type { Picos } from '../../core/time.js';
import { openCapture } from '../../ingest/file-source.js';
import { MeasurementPoint, type MeasurementPointOptions } from '../measurement-point.js';
import type { MpRecord } from '../records.js';
import { aborted as abortedPromise, BATCH, lastStoredSeq, MpOutbox } from './outbox.js';
import { JetStreamPublisher, type PublisherCounts, type PublisherOptions } from './publisher.js';
import { connectNats, ensureStreams } from './streams.js';

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
  for (const f of files) if (/^(dpmi-)?iface:/.test(f)) throw new UsageError(`${f}: a live source (runLiveAgent)`);
  const nc = await connectNats(opts.url, `migscope-agent-${opts.mp}`, { signal: opts.signal });
  try {
    const jsm = await ensureStreams(nc);
    const publisher = new JetStreamPublisher(jetstream(nc), opts);
    const stored = await lastStoredSeq(jsm, opts.mp);
    const outbox = new MpOutbox(opts.mp, publisher, opts.resume ? stored : 0, opts.onRecord);
    const mp = new MeasurementPoint(opts.mp, outbox.push, { ...opts, firstSeq: opts.resume ? 0 : stored });
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
            if (outbox.pending.length >= BATCH || pace) await outbox.publish();
          }
          mp.heartbeat();
          await outbox.publish();
        }
      } finally {
        await file.close();
      }
    }
    if (!aborted) mp.finish();
    await outbox.publish();
    await Promise.race([publisher.flush(), abortedPromise(opts.signal)]);
    publisher.close();
    return {
      mp: opts.mp, packets, records: outbox.records, skipped: outbox.skipped, firstSeq: stored + 1, lastSeq: mp.lastSeq,
      publisher: { ...publisher.counts }, aborted,
    };
  } finally {
    await nc.close();
  }
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
