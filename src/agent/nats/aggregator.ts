import { AckPolicy, DeliverPolicy, jetstream, type JetStreamManager, type JsMsg } from '@nats-io/jetstream';
import { headers, nanos } from '@nats-io/transport-node';
import { Aggregation, type AggregationOptions, type AggregationSummary, type AggregatorEvent } from '../aggregate.js';
import { decodeRecords, encodeValue } from '../records.js';
import { JetStreamPublisher } from './publisher.js';
import { connectNats, ensureStreams, EVENT_STREAM, eventSubject, RECORD_STREAM } from './streams.js';

export interface NatsAggregatorOptions extends Omit<AggregationOptions, 'onEvent'> {
  url: string;
  /** Durable consumer name; a restarted aggregator with the same name resumes. */
  durable?: string;
  onEvent?: (ev: AggregatorEvent) => void;
  /** Publish events to migscope.events.<scenario> (default true). */
  publishEvents?: boolean;
  /** An MP without a record for this long (wall clock, ms) stops holding back the merge. Default 5000. */
  mpTimeout?: number;
  /**
   * One-shot (`analyze --subscribe`): stop once every MP met (and every expected one)
   * has sent its end record, or after this many ms without a record. Absent: run until
   * `signal` aborts (serve).
   */
  idleTimeout?: number;
  signal?: AbortSignal;
}

export interface NatsAggregatorSummary {
  /** The merge and phase-engine summary; absent when stopped by `signal` (the run goes on after a restart). */
  aggregation?: AggregationSummary;
  /** Records taken from the stream (replayed ones included). */
  records: number;
  /** Records read back from the stream on start to rebuild the state (a restart). */
  replayed: number;
  /** Events published now, and events regenerated while rebuilding but already published. */
  published: number;
  republishSkipped: number;
  /** NATS messages that were not record batches (undecodable, bad header): counted, skipped. */
  badRecords: number;
}

const EVENT_HEADER = 'Migscope-Event';
const AGGREGATOR_HEADER = 'Migscope-Aggregator';

/**
 * The aggregator over JetStream (docs/agents.md): all MPs' records through a durable
 * consumer into one Aggregation (merge, dedupe, clock offsets, phase engine); events
 * published to migscope.events.<scenario>, numbered so that none is published twice.
 *
 * A restart rebuilds the in-memory state (merge queues, estimator, phase engine) by
 * reading the stream again up to what the durable consumer had delivered, with the
 * events it regenerates matched by number against those already published, then goes
 * on from the durable consumer: nothing is lost and nothing is published twice.
 */
export async function runNatsAggregator(opts: NatsAggregatorOptions): Promise<NatsAggregatorSummary> {
  const durable = opts.durable ?? 'migscope-aggregator';
  const nc = await connectNats(opts.url, `migscope-aggregator-${durable}`);
  try {
    const jsm = await ensureStreams(nc);
    const js = jetstream(nc);
    const events = opts.publishEvents === false ? undefined : new JetStreamPublisher(js, { window: 64 });
    const alreadyPublished = events ? await lastEventNumber(jsm, durable) : 0;
    let eventNo = 0;
    let republishSkipped = 0;
    let published = 0;
    const scenarios = new Map<string, string>();
    const pushes: Promise<void>[] = [];
    const onEvent = (ev: AggregatorEvent): void => {
      eventNo++;
      if (ev.type === 'migration-started') scenarios.set(ev.migration, ev.scenario);
      // Regenerated while rebuilding the state after a restart: already out.
      if (eventNo <= alreadyPublished) { republishSkipped++; return; }
      opts.onEvent?.(ev);
      if (!events) return;
      const h = headers();
      h.set(EVENT_HEADER, String(eventNo));
      h.set(AGGREGATOR_HEADER, durable);
      const subject = eventSubject(scenarios.get(ev.migration) ?? 'capture');
      published++;
      pushes.push(events.push(subject, encodeValue(ev), `${durable}/${eventNo}`, h));
    };
    const agg = new Aggregation({ ...opts, onEvent });
    let badRecords = 0;
    let records = 0;
    const lastSeen = new Map<string, number>();
    const feed = (m: JsMsg): void => {
      const rs = decodeRecords(m.data);
      if (typeof rs === 'string') { badRecords++; return; }
      for (const r of rs) {
        records++;
        lastSeen.set(r.mp, Date.now());
        agg.record(r);
      }
    };

    // The durable consumer, created on first start.
    let info;
    try {
      info = await jsm.consumers.info(RECORD_STREAM, durable);
    } catch {
      info = await jsm.consumers.add(RECORD_STREAM, {
        durable_name: durable, ack_policy: AckPolicy.Explicit, deliver_policy: DeliverPolicy.All,
        ack_wait: nanos(10_000), max_ack_pending: 20_000,
      });
    }
    // Restart: rebuild the state from the stream up to what was delivered before.
    let replayed = 0;
    const upTo = info.delivered.stream_seq;
    if (upTo > 0) {
      const ordered = await js.consumers.get(RECORD_STREAM, { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: 1 });
      const it = await ordered.consume({ max_messages: 1000 });
      for await (const m of it) {
        feed(m);
        replayed++;
        if (m.seq >= upTo) break;
      }
      await it.close();
    }

    const consumer = await js.consumers.get(RECORD_STREAM, durable);
    const messages = await consumer.consume({ max_messages: 1000, idle_heartbeat: 1000 });
    let lastRecordAt = Date.now();
    const mpTimeout = opts.mpTimeout ?? 5000;
    const silent = new Set<string>();
    const timer = setInterval(() => {
      const now = Date.now();
      for (const [mp, t] of lastSeen) {
        if (now - t > mpTimeout && !silent.has(mp)) { silent.add(mp); agg.silent(mp); }
        else if (now - t <= mpTimeout) silent.delete(mp);
      }
      if (opts.idleTimeout !== undefined && now - lastRecordAt > opts.idleTimeout) void messages.close();
    }, 250);
    const onAbort = (): void => { void messages.close(); };
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    try {
      for await (const m of messages) {
        lastRecordAt = Date.now();
        feed(m);
        m.ack();
        if (opts.idleTimeout !== undefined && m.info.pending === 0 && agg.merger.allEnded()) break;
      }
    } finally {
      clearInterval(timer);
      opts.signal?.removeEventListener('abort', onAbort);
      await messages.close();
    }
    // Stopped from outside: the MPs go on, so nothing is ended; a restart resumes.
    const aggregation = opts.signal?.aborted ? undefined : agg.finish();
    if (events) {
      await Promise.all(pushes);
      await events.flush();
      events.close();
    }
    const out: NatsAggregatorSummary = { records, replayed, published, republishSkipped, badRecords };
    if (aggregation) out.aggregation = aggregation;
    return out;
  } finally {
    await nc.drain().catch(() => nc.close());
  }
}

/** The number of the last event this aggregator published (0: none), from its header. */
async function lastEventNumber(jsm: JetStreamManager, durable: string): Promise<number> {
  const info = await jsm.streams.info(EVENT_STREAM);
  const first = info.state.first_seq;
  // Other aggregators may share the stream: look back a bounded number of messages.
  for (let seq = info.state.last_seq; seq >= first && seq > info.state.last_seq - 10_000 && seq > 0; seq--) {
    let m;
    try {
      m = await jsm.streams.getMessage(EVENT_STREAM, { seq });
    } catch {
      continue;
    }
    if (m?.header?.get(AGGREGATOR_HEADER) === durable) return Number(m.header.get(EVENT_HEADER)) || 0;
  }
  return 0;
}
