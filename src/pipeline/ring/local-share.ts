import type { Picos } from '../../core/time.js';
import type { ProtocolMessage } from '../../protocols/types.js';
import type { ShareOutput } from './file-share.js';
import type { MessageSource, WatermarkMerger } from './merge.js';

/**
 * The output of the file share decoded on the main thread itself: its messages go
 * straight into the merge as the objects they are (no packing, no postMessage). With
 * `--workers N` the main thread decodes share 0 and N − 1 worker threads the others:
 * one isolate fewer to start and to warm up (each compiles the whole decode path:
 * ~0.3 s of CPU), and the largest share of messages never crosses a thread.
 */
export class LocalShareOutput implements ShareOutput {
  key = -1;
  messages = 0;
  /** Set when the run stops early: nothing more is handed on. */
  stopped = false;
  private keys: number[] = [];
  private msgs: ProtocolMessage[] = [];

  constructor(private readonly merger: WatermarkMerger, private readonly index: number, private readonly workers: number) {}

  /** Flow ids are per share: made unique over the run as the workers make theirs (share index in the low digits). */
  readonly emit = (msg: ProtocolMessage): void => {
    if (msg.flowId >= 0) msg.flowId = msg.flowId * this.workers + this.index;
    this.keys.push(this.key);
    this.msgs.push(msg);
    this.messages++;
  };

  get pending(): number {
    return this.keys.length;
  }

  post(watermark: number, watermarkTs: Picos): void {
    const keys = this.keys, msgs = this.msgs;
    this.keys = [];
    this.msgs = [];
    if (this.stopped) return;
    this.merger.enqueue(this.index, keys, keys.length > 0 ? new ArraySource(msgs) : undefined, watermark, watermarkTs);
  }
}

class ArraySource implements MessageSource {
  private i = 0;

  constructor(private readonly msgs: ProtocolMessage[]) {}

  next(): ProtocolMessage {
    return this.msgs[this.i++]!;
  }
}
