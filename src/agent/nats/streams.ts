import { connect, nanos, type NatsConnection } from '@nats-io/transport-node';
import { jetstreamManager, RetentionPolicy, StorageType, type JetStreamManager } from '@nats-io/jetstream';
import { UsageError } from '../../core/errors.js';

/** JetStream names (docs/agents.md). */
export const RECORD_STREAM = 'MIGSCOPE';
export const RECORD_SUBJECTS = 'migscope.mp.>';
export const EVENT_STREAM = 'MIGSCOPE_EVENTS';
export const EVENT_SUBJECTS = 'migscope.events.>';
/** Resends within this window are recognised by their Nats-Msg-Id and stored once. */
const DUPLICATE_WINDOW_MS = 10 * 60_000;

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
 * every lost one is retried without limit; the caller decides when to give up.
 */
export async function connectNats(url: string, name: string): Promise<NatsConnection> {
  return connect({
    servers: parseNatsUrl(url), name, waitOnFirstConnect: true, maxReconnectAttempts: -1,
    reconnectTimeWait: 250, pingInterval: 2_000, maxPingOut: 2,
  });
}

/** Creates the record and event streams when missing (file storage, dedupe window). */
export async function ensureStreams(nc: NatsConnection): Promise<JetStreamManager> {
  const jsm = await jetstreamManager(nc);
  for (const [name, subjects] of [[RECORD_STREAM, RECORD_SUBJECTS], [EVENT_STREAM, EVENT_SUBJECTS]] as const) {
    try {
      await jsm.streams.info(name);
    } catch {
      await jsm.streams.add({
        name, subjects: [subjects], storage: StorageType.File, retention: RetentionPolicy.Limits,
        duplicate_window: nanos(DUPLICATE_WINDOW_MS),
      });
    }
  }
  return jsm;
}
