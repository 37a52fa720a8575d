import { setImmediate as immediate } from 'node:timers/promises';

/**
 * Lets a test worker's event loop run once. Long synchronous fuzz loops call it every few
 * thousand inputs: vitest's worker RPC times out after 60 s without a turn of the loop,
 * which on a loaded 2-core machine ends an all-green run with exit 1.
 */
export async function yieldToEventLoop(): Promise<void> {
  await immediate();
}
