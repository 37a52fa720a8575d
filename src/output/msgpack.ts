import { Encoder } from '@msgpack/msgpack';
import { codec, widen } from '../core/msgpack.js';

export { decodeMsgpackStream, WIDE_UINT_EXT } from '../core/msgpack.js';

/** msgpack output: one map per event, concatenated (codec in src/core/msgpack.ts). */
export class MsgpackWriter {
  private readonly encoder = new Encoder({ useBigInt64: true, ignoreUndefined: true, extensionCodec: codec });

  constructor(private readonly out: { write(chunk: Uint8Array): unknown }) {}

  /**
   * One byte copy per event: encode() returns a copy of the encoder's reused buffer,
   * which the stream may hold past the next call (encodeSharedRef's view could not be
   * handed on). widen() copies only the maps that hold a wide timestamp.
   */
  write(value: unknown): void {
    this.out.write(this.encoder.encode(widen(value)));
  }
}
