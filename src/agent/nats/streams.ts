import { setTimeout as sleep } from 'node:timers/promises';
import { connect, nanos, type NatsConnection } from '@nats-io/transport-node';
import { jetstreamManager, RetentionPolicy, StorageType, type JetStreamManager } from '@nats-io/jetstream';
import { MigscopeError, UsageError } from '../../core/errors.js';

/** JetStream names (docs/agents.md). */
export const RECORD_STREAM = 'MIGSCOPE';
export const RECORD_SUBJECTS = 'migscope.mp.>';
export const EVENT_STREAM = 'MIGSCOPE_EVENTS';
export const EVENT_SUBJECTS = 'migscope.events.>';
/** Resends within this window are recognised by their Nats-Msg-Id and stored once. */
const DUPLICATE_WINDOW_MS = 10 * 60_000;
/**
 * Disk stays bounded: records are kept a day (an aggregator restarted later rebuilds
 * only the last day's state), events a week. An existing stream keeps its own limits.
 */
const RECORD_MAX_AGE_MS = 24 * 3600_000;
const EVENT_MAX_AGE_MS = 7 * 24 * 3600_000;

/** The subject one MP publishes its records on (one subject: JetStream keeps its order). */
export function recordSubject(mp: string): string {
  return `migscope.mp.${subjectToken(mp)}`;
}

/** Scenario of an event's migration → `migscope.events.<scenario>`. */
export function eventSubject(scenario: string): string {
  return `migscope.events.${subjectToken(scenario)}`;
}

/** A name made safe as one NATS subject token (no dots, wildcards or spaces). */
export function subjectToken(name: string): string {
  return name.replace(/[^A-Za-z0-9_-]/g, '_') || '_';
}

/** nats://host:port (or host:port) checked, as the client takes it. */
export function parseNatsUrl(url: string): string {
  const u = url.includes('://') ? url : `nats://${url}`;
  let parsed: URL;
  try {
    parsed = new URL(u);
  } catch {
    throw new UsageError(`not a NATS URL: '${url}' (expected nats://HOST:PORT)`);
  }
  if (parsed.protocol !== 'nats:' && parsed.protocol !== 'tls:') throw new UsageError(`not a NATS URL: '${url}' (expected nats://HOST:PORT)`);
  return u;
}

/**
 * Connects for good: the first connection is awaited (the server may start later) and
 * every lost one is retried without limit. `giveUpAfter` (ms) bounds the wait for the
 * first connection, `signal` stops it; either is a one-line error.
 */
export async function connectNats(url: string, name: string, opts: { signal?: AbortSignal | undefined; giveUpAfter?: number | undefined } = {}): Promise<NatsConnection> {
  const servers = parseNatsUrl(url);
  const start = Date.now();
  let last = '';
  // Our own loop for the first connection (the client's waitOnFirstConnect cannot be
  // stopped); once connected, the client reconnects by itself, without limit.
  for (;;) {
    if (opts.signal?.aborted) throw new MigscopeError(`NATS at ${url}: stopped before it was reachable${last}`);
    try {
      return await connect({ servers, name, maxReconnectAttempts: -1, reconnectTimeWait: 250, pingInterval: 2_000, maxPingOut: 2 });
    } catch (err) {
      last = ` (${err instanceof Error ? err.message : String(err)})`;
    }
    if (opts.giveUpAfter !== undefined && Date.now() - start >= opts.giveUpAfter) {
      throw new MigscopeError(`NATS at ${url}: unreachable for ${Math.round(opts.giveUpAfter / 1000)} s${last}`);
    }
    await sleep(250);
  }
}

/** How often stream creation is tried before the agent or aggregator gives up. */
const ENSURE_ATTEMPTS = 5;

/**
 * Creates the record and event streams when missing (file storage, dedupe window, age
 * limits). Two agents starting together race to create them, and a loaded or just
 * restarted server can answer a JetStream API request late: a timeout or "already in
 * use" is retried (bounded) instead of ending the agent.
 */
export async function ensureStreams(nc: NatsConnection): Promise<JetStreamManager> {
  const jsm = await jetstreamManager(nc, { timeout: 15_000 });
  for (const [name, subjects, maxAgeMs] of [[RECORD_STREAM, RECORD_SUBJECTS, RECORD_MAX_AGE_MS], [EVENT_STREAM, EVENT_SUBJECTS, EVENT_MAX_AGE_MS]] as const) {
    for (let attempt = 1; ; attempt++) {
      try {
        await jsm.streams.info(name);
        break;
      } catch {
        try {
          await jsm.streams.add({
            name, subjects: [subjects], storage: StorageType.File, retention: RetentionPolicy.Limits,
            duplicate_window: nanos(DUPLICATE_WINDOW_MS), max_age: nanos(maxAgeMs),
          });
          break;
        } catch (err) {
          if (attempt >= ENSURE_ATTEMPTS) {
            throw new MigscopeError(`NATS: cannot create JetStream stream ${name}: ${err instanceof Error ? err.message : String(err)}`);
          }
          await sleep(250 * attempt);
        }
      }
    }
  }
  return jsm;
}
