import type { ProtocolMessage } from '../../protocols/types.js';
import type { AggregatorEvent } from '../aggregate.js';
import { runNatsAggregator, type NatsAggregatorOptions, type NatsAggregatorSummary } from './aggregator.js';

export interface MergedMessage {
  msg: ProtocolMessage;
  /** The MP whose copy was taken. */
  mp: string;
}

export type MergedItem = { kind: 'message'; value: MergedMessage } | { kind: 'event'; value: AggregatorEvent };

/**
 * The NATS aggregator as an async iterable (for `serve` and other long-running
 * consumers): the merged protocol messages, each followed by the events it raised, in
 * order. Reading from NATS waits while `highWater` items are unconsumed, so a slow
 * consumer slows the aggregator instead of filling memory. Ends when the aggregator does
 * (one-shot options, or `signal`); its summary is then in `summary`. Without
 * `withMessages` only the events are queued (serve needs no messages).
 */
export function natsAggregation(opts: Omit<NatsAggregatorOptions, 'onMessage' | 'onEvent' | 'backpressure'>, highWater = 4096, withMessages = true): AsyncIterable<MergedItem> & { summary?: NatsAggregatorSummary } {
  const queue: MergedItem[] = [];
  let head = 0;
  let done = false;
  let failure: unknown;
  let wakeReader: (() => void) | undefined;
  let wakeWriter: (() => void) | undefined;
  const wake = (): void => { const w = wakeReader; wakeReader = undefined; w?.(); };
  const out: AsyncIterable<MergedItem> & { summary?: NatsAggregatorSummary } = {
    [Symbol.asyncIterator]: () => {
      runNatsAggregator({
        ...opts,
        ...(withMessages ? { onMessage: (msg: ProtocolMessage, mp: string) => { queue.push({ kind: 'message', value: { msg, mp } }); wake(); } } : {}),
        onEvent: (ev) => { queue.push({ kind: 'event', value: ev }); wake(); },
        backpressure: () => (queue.length - head < highWater ? Promise.resolve() : new Promise<void>((r) => { wakeWriter = r; })),
      }).then((s) => { out.summary = s; }, (e: unknown) => { failure = e; }).finally(() => { done = true; wake(); });
      return {
        async next(): Promise<IteratorResult<MergedItem>> {
          for (;;) {
            if (head < queue.length) {
              const v = queue[head]!;
              queue[head++] = undefined as unknown as MergedItem;
              if (head > 1024 && head * 2 > queue.length) { queue.splice(0, head); head = 0; }
              if (queue.length - head < highWater / 2) { const w = wakeWriter; wakeWriter = undefined; w?.(); }
              return { value: v, done: false };
            }
            if (done) {
              if (failure !== undefined) throw failure;
              return { value: undefined, done: true };
            }
            await new Promise<void>((r) => { wakeReader = r; });
          }
        },
      };
    },
  };
  return out;
}
