import diagnostics_channel from 'node:diagnostics_channel';

/**
 * Observability through diagnostics_channel instead of ad-hoc logging: anyone in the
 * process (a dashboard, a test, an APM agent) can subscribe without migscope knowing.
 */
export const channels = {
  /** Every PhaseEvent as it leaves the phase engine. */
  event: diagnostics_channel.channel('migscope:event'),
  /**
   * Every Anomaly message (src/core/anomaly.ts), whatever stage raised it and whichever
   * path decoded it, published once on the main thread as the phase engine counts it
   * (src/phases/anomalies.ts).
   */
  anomaly: diagnostics_channel.channel('migscope:anomaly'),
  /** Capture statistics snapshots (ring/kernel drops). */
  captureStats: diagnostics_channel.channel('migscope:capture-stats'),
} as const;
