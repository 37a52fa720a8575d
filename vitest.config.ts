import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Two cores on CI: keep parallelism modest so heavy integration tests don't starve each other.
    pool: 'forks',
    poolOptions: { forks: { maxForks: 2, minForks: 1 } },
    testTimeout: 60_000,
    // Real peers (QEMU guests, RabbitMQ, libvirtd, tcpdump on loopback) are timing-dependent:
    // a guest that boots late or a capture that starts late fails one run in many on a
    // busy machine. A failing test is run once more; a real fault fails both runs.
    retry: 1,
    hookTimeout: 300_000,
    reporters: ['default'],
  },
});
