import type { Picos } from '../../core/time.js';
import type { Direction, Endpoint, FlowInfo } from '../../decode/types.js';
import { TLS_APPLICATION_DATA, TlsRecordLayer } from '../tls-records.js';
import type { Emit, StreamDecoder } from '../types.js';

export { looksLikeTls } from '../tls-records.js';

/**
 * A migration connection that is TLS (QEMU native TLS, `tls-creds`): the stream is not
 * decoded (it cannot be, and a plaintext walk would be silently wrong). What is visible
 * is counted: the bytes each way (from the reassembled TCP sequence space, holes
 * included), and the source's record layer — when application data began and last
 * flowed — so that the phase engine can bound the Transfer phase.
 */
export class EncryptedChannelDecoder implements StreamDecoder {
  private readonly layer = new TlsRecordLayer((dir, rec) => {
    if (dir !== 'c2s') return;
    this.records++;
    if (rec.type === TLS_APPLICATION_DATA) {
      this.firstData ??= rec.ts;
      this.lastData = rec.ts;
    }
  });
  private records = 0;
  private firstData?: Picos;
  private lastData?: Picos;
  private ended = false;
  private readonly src: Endpoint;
  private readonly dst: Endpoint;

  constructor(private readonly flow: FlowInfo, ts: Picos, private readonly emit: Emit) {
    this.src = flow.client;
    this.dst = flow.server;
    emit({ protocol: 'qemu', kind: 'encrypted', transport: 'tls', streamBytes: 0, ts, tsEnd: ts, flowId: flow.id, src: this.src, dst: this.dst });
  }

  data(dir: Direction, bytes: Uint8Array, ts: Picos): void {
    this.layer.data(dir, bytes, ts);
  }

  gap(dir: Direction, length: number, _ts: Picos): void {
    this.layer.gap(dir, length); // sequence space: the bytes were sent, not captured
  }

  end(dir: Direction, ts: Picos): void {
    if (dir !== 'c2s' || this.ended) return;
    this.ended = true;
    this.emit({
      protocol: 'qemu', kind: 'encrypted-end', transport: 'tls', streamBytes: this.layer.bytes.c2s, returnBytes: this.layer.bytes.s2c,
      records: this.records, ...(this.firstData !== undefined ? { firstData: this.firstData, lastData: this.lastData! } : {}),
      ts, tsEnd: ts, flowId: this.flow.id, src: this.src, dst: this.dst,
    });
  }
}
