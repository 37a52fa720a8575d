import { Encoder } from '@msgpack/msgpack';
import { codec, widen } from '../core/msgpack.js';

export { decodeMsgpackStream, WIDE_UINT_EXT } from '../core/msgpack.js';

/** msgpack output: one map per event, concatenated (codec in src/core/msgpack.ts). */
export class MsgpackWriter {
  private readonly encoder = new Encoder({ useBigInt64: true, ignoreUndefined: true, extensionCodec: codec });

  constructor(private readonly out: { write(chunk: Uint8Array): unknown }) {}

  write(value: unknown): void {
    // encode() returns a view on the encoder's reused buffer: copy before handing it on,
    // the stream may hold it past the next call.
    this.out.write(Uint8Array.from(this.encoder.encode(widen(value))));
  }
}
