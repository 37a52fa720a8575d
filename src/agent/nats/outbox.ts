import type { JetStreamManager } from '@nats-io/jetstream';
import { decodeRecords, encodeRecords, type MpRecord } from '../records.js';
import type { JetStreamPublisher } from './publisher.js';
import { RECORD_STREAM, recordSubject } from './streams.js';

/** Records per NATS message at most (a sightings record is ~20 kB: 32 stay far below 1 MB). */
export const BATCH = 32;

/**
 * One MP's records on their way to JetStream: collected as the MP emits them, published
 * in numbered batches of up to BATCH on the MP's subject, each with the Nats-Msg-Id
 * `<mp>/<first>-<last>` (a resend is stored once). Records numbered up to `skipUpTo`
 * are already in the stream (an agent resumed on the same input) and are dropped.
 */
export class MpOutbox {
  readonly subject: string;
  pending: MpRecord[] = [];
  records = 0;
  skipped = 0;

  constructor(readonly mp: string, private readonly publisher: JetStreamPublisher, private readonly skipUpTo = 0,
    private readonly onRecord?: (r: MpRecord) => void) {
    this.subject = recordSubject(mp);
  }

  readonly push = (r: MpRecord): void => { this.pending.push(r); };

  /** Publishes what is pending; resolves when the publisher took it (not when acked). */
  async publish(): Promise<void> {
    while (this.pending.length > 0) {
      const all = this.pending;
      this.pending = [];
      const batch = all.filter((r) => r.seq > this.skipUpTo);
      this.skipped += all.length - batch.length;
      for (let i = 0; i < batch.length; i += BATCH) {
        const run = batch.slice(i, i + BATCH);
        this.records += run.length;
        await this.publisher.push(this.subject, encodeRecords(run), `${this.mp}/${run[0]!.seq}-${run.at(-1)!.seq}`);
        if (this.onRecord) for (const r of run) this.onRecord(r);
      }
    }
  }
}

/** The sequence number of the last record JetStream holds for this MP (0: none). */
export async function lastStoredSeq(jsm: JetStreamManager, mp: string): Promise<number> {
  let m;
  try {
    m = await jsm.streams.getMessage(RECORD_STREAM, { last_by_subj: recordSubject(mp) });
  } catch {
    return 0;
  }
  if (!m) return 0;
  const r = decodeRecords(m.data);
  return typeof r === 'string' || r.length === 0 ? 0 : r.at(-1)!.seq;
}

/** Resolves when `signal` aborts (never without one). */
export function aborted(signal: AbortSignal | undefined): Promise<void> {
  if (!signal) return new Promise(() => {});
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
}
