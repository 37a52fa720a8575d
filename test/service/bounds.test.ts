/**
 * A capture cannot make the service keep unbounded state: migrations that start and
 * never end are evicted beyond 1024 running (with their metric series), and the event
 * log keeps its capacity.
 */
import { describe, expect, it } from 'vitest';
import { ServeCore } from '../../src/service/core.js';

describe('serve state bounds', () => {
  it('evicts the oldest never-ending migrations and their series', async () => {
    const core = new ServeCore({ version: 't', stallAfter: 10n ** 15n, paced: false, logCapacity: 1000 });
    for (let i = 1; i <= 3000; i++) {
      core.push({ kind: 'event', event: { type: 'migration-started', migration: `m${i}`, ts: BigInt(i), scenario: 'kvm', source: '10.0.0.1', destination: '10.0.0.2' } });
      core.push({ kind: 'event', event: { type: 'phase-started', migration: `m${i}`, ts: BigInt(i), phase: 'transfer' } });
      core.push({ kind: 'event', event: { type: 'progress', migration: `m${i}`, ts: BigInt(i), bytes: i, rate: 1, iteration: 1 } });
    }
    expect(core.board.runningViews()).toHaveLength(1024);
    expect(core.board.get('m1')).toBeUndefined();
    expect(core.board.get('m3000')).toBeDefined();
    expect(core.log.since(0)).toHaveLength(1000);
    const text = await core.metrics.registry.metrics();
    expect(text).toMatch(/^migscope_migrations_running 1024$/m);
    expect(text).toMatch(/^migscope_migrations_in_phase\{phase="transfer"\} 1024$/m);
    expect(text.match(/^migscope_migration_transferred_bytes\{/gm)).toHaveLength(1024);
    expect(text).toMatch(/^migscope_migrations_started_total\{scenario="kvm"\} 3000$/m);
  });
});
