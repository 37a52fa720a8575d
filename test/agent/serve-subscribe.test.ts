/**
 * `migscope serve --subscribe`: the aggregator as a service. Two agents publish the two
 * sides of a generated migration (destination clock +350 µs) to a real nats-server; the
 * service's /api/events must carry the phases of `analyze` of the truth and the clock
 * offset, /api/measurement-points the offset, and a real Prometheus scraping /metrics
 * must store the same offset and phase counts.
 */
import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AggregatorEvent, ClockOffsetEvent } from '../../src/agent/aggregate.js';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { runAgent } from '../../src/agent/nats/agent.js';
import { EVENT_STREAM } from '../../src/agent/nats/streams.js';
import { toSeconds } from '../../src/core/time.js';
import { tempDir } from '../phases/generated.js';
import { PROMETHEUS, startPrometheus, startServe, waitFor, type PrometheusProcess, type ServeProcess } from '../service/helpers.js';
import { NatsServer, natsServerMissing } from './nats-server.js';
import { abs, expectTruthPhases, makeTwoMpTrace, parseNdjson, phasesEnded, SHIFT, US, type TwoMpTrace } from './shared-trace.js';

const missing = natsServerMissing() ?? (existsSync(PROMETHEUS) ? undefined : `${PROMETHEUS} missing (apt-get install prometheus)`);

/** Messages held by the event stream (what aggregators published). */
async function eventStreamSize(url: string): Promise<number> {
  const nc = await connect({ servers: url });
  try {
    return (await (await jetstreamManager(nc)).streams.info(EVENT_STREAM)).state.messages;
  } finally {
    await nc.close();
  }
}

describe.skipIf(missing !== undefined)(`serve --subscribe (real nats-server, real Prometheus)${missing ? ` — skipped: ${missing}` : ''}`, () => {
  const { dir, cleanup } = tempDir();
  let fx: TwoMpTrace;
  const nats = new NatsServer();
  let serve: ServeProcess | undefined;
  let prom: PrometheusProcess | undefined;
  beforeAll(async () => { fx = await makeTwoMpTrace(dir); });
  afterAll(async () => {
    await serve?.stop();
    await prom?.stop();
    await nats.cleanup();
    cleanup();
  });

  it('serves the aggregated phases, the clock offset as a metric and at /api, scraped by Prometheus', async () => {
    // A retried attempt starts from scratch (nothing of the failed one left running).
    await serve?.stop();
    await prom?.stop();
    await nats.stop();
    await nats.start();
    const args = ['--subscribe', nats.url, '--expect', 'src,dst', '--correct-clocks', '--stall-after', '3600'];
    serve = await startServe(args);
    prom = await startPrometheus(dir, serve.url.replace('http://', ''));
    await Promise.all([runAgent([fx.a], { url: nats.url, mp: 'src' }), runAgent([fx.b], { url: nats.url, mp: 'dst' })]);
    const url = serve.url;
    // End of stream, explicit: both MPs' end records reached the aggregator.
    const events = await waitFor('both MPs to end in /api/events', async () => {
      const evs = parseNdjson<AggregatorEvent & { seq: number }>(await (await fetch(`${url}/api/events?since=0&follow=false`)).text());
      return evs.filter((e) => e.type === 'mp-status' && e.status === 'ended').length === 2 ? evs : undefined;
    }, 60_000);
    expect(events.filter((e) => e.type === 'mp-status').map((e) => `${(e as { mp: string }).mp}:${(e as { status: string }).status}`).sort()).toEqual(['dst:ended', 'src:ended']);
    expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
    expectTruthPhases(fx.truth, events);
    const offsets = events.filter((e): e is ClockOffsetEvent & { seq: number } => e.type === 'clock-offset');
    const last = offsets.at(-1)!;
    expect(last).toMatchObject({ mp: 'dst', reference: 'src', corrected: true });
    expect(abs(last.offset - SHIFT)).toBeLessThan(10n * US);

    const mps = await (await fetch(`${url}/api/measurement-points`)).json() as {
      reference: string; measurementPoints: { mp: string; status: string; clock?: { offset: string; spread: string } }[];
    };
    expect(mps.reference).toBe('src');
    const dst = mps.measurementPoints.find((m) => m.mp === 'dst')!;
    expect(dst.status).toBe('ended');
    expect(BigInt(dst.clock!.offset)).toBe(last.offset);

    // Two more scrapes after the last event, then what Prometheus stored.
    await new Promise((r) => setTimeout(r, 2500));
    const { one } = prom;
    expect(await one('migscope_clock_offset_seconds{mp="dst",reference="src"}')).toBeCloseTo(toSeconds(last.offset), 12);
    expect(await one('migscope_clock_offset_spread_seconds{mp="dst",reference="src"}')).toBeCloseTo(toSeconds(last.spread), 12);
    expect(await one('migscope_clock_offset_bound_seconds{mp="dst",reference="src"}')).toBeCloseTo(toSeconds(last.bound), 12);
    expect(await one('migscope_events_total{type="clock-offset"}')).toBe(offsets.length);
    expect(await one('sum(migscope_measurement_point_ended)')).toBe(2);
    expect(await one('sum(migscope_measurement_point_silent)')).toBe(0);
    expect(await one('migscope_migrations_ended_total{outcome="completed",scenario="openstack"}')).toBe(1);
    const ended = phasesEnded(events).filter((e) => e.uncertain === undefined);
    for (const phase of new Set(ended.map((e) => e.phase))) {
      const mine = ended.filter((e) => e.phase === phase);
      expect(await one(`migscope_phase_duration_seconds_count{phase="${phase}"}`), phase).toBe(mine.length);
      expect(await one(`migscope_phase_duration_seconds_sum{phase="${phase}"}`), phase).toBeCloseTo(mine.reduce((a, e) => a + toSeconds(e.duration), 0), 9);
    }
    expect(await serve.stop()).toBe(0);

    // Restarted, the service rebuilds its view from the stream: the same events (not
    // published to NATS again), the migration back on /api/migrations.
    const published = await eventStreamSize(nats.url);
    serve = await startServe(args);
    const url2 = serve.url;
    const again = await waitFor('the same events after a restart', async () => {
      const evs = parseNdjson<AggregatorEvent & { seq: number }>(await (await fetch(`${url2}/api/events?since=0&follow=false`)).text());
      return evs.length >= events.length ? evs : undefined;
    }, 60_000);
    const strip = (evs: (AggregatorEvent & { seq: number })[]) => evs.map(({ seq: _s, ...e }) => JSON.stringify(e, (_k, v: unknown) => (typeof v === 'bigint' ? `${v}` : v)));
    expect(strip(again)).toEqual(strip(events));
    const board = await (await fetch(`${url2}/api/migrations`)).json() as { migrations: { state: string; outcome?: string }[] };
    expect(board.migrations.map((m) => `${m.state}:${m.outcome}`)).toEqual(['ended:completed']);
    expect(await eventStreamSize(nats.url)).toBe(published);
    expect(await serve.stop()).toBe(0);
    serve = undefined;
  }, 180_000);
});
