import type { Picos } from '../../core/time.js';
import type { Direction, Endpoint, FlowInfo } from '../../decode/types.js';
import { TLS_APPLICATION_DATA, TLS_CHANGE_CIPHER_SPEC, TlsRecordLayer, type TlsRecordHeader } from '../tls-records.js';
import type { Emit, StreamDecoder } from '../types.js';

/**
 * A libvirt connection over TLS (qemu+tls://, port 16514). Nothing of the RPC is read:
 * the records after the handshake are reported one by one (direction, length, time of
 * their first byte), for the phase engine to find the RPC round trips in.
 *
 * Where the handshake ends is not marked in TLS 1.3 (its last messages travel as
 * application-data records). libvirt marks it: once the handshake is done, the server
 * sends one byte (its verdict on the client's certificate) before any RPC — the first
 * record of the server whose plaintext is 1 byte, when the suite's expansion is known.
 * Otherwise: the end of the client's flight that carries its ChangeCipherSpec (TLS 1.2;
 * TLS 1.3 in middlebox-compatibility mode sends it, though some clients send it early),
 * else the client's second flight (ClientHello, then its Finished). A connection whose
 * first record is application data was captured after its handshake.
 */
export class LibvirtTlsDecoder implements StreamDecoder {
  private readonly layer = new TlsRecordLayer((dir, rec) => this.record(dir, rec));
  /** Client flights so far (a flight: the client's records between two of the server's). */
  private clientFlights = 0;
  private lastFromClient = false;
  private ccsInFlight = false;
  private finishedFlight = false;
  private handshakeDone = false;
  private records = 0;
  private readonly src: Endpoint;
  private readonly dst: Endpoint;

  constructor(private readonly flow: FlowInfo, private readonly emit: Emit) {
    this.src = flow.client;
    this.dst = flow.server;
  }

  data(dir: Direction, bytes: Uint8Array, ts: Picos): void {
    this.layer.data(dir, bytes, ts);
  }

  gap(dir: Direction, length: number, _ts: Picos): void {
    this.layer.gap(dir, length);
  }

  end(_dir: Direction, _ts: Picos): void {
    // The connection's close is the TCP FIN the phase engine sees itself.
  }

  private record(dir: Direction, rec: TlsRecordHeader): void {
    const fromClient = dir === 'c2s';
    if (this.records++ === 0 && rec.type === TLS_APPLICATION_DATA) this.handshakeDone = true;
    const expansion = this.layer.expansion;
    if (!this.handshakeDone && expansion !== undefined) {
      // libvirt's check byte: the first RPC-layer byte on the connection.
      if (fromClient || rec.length - expansion !== 1) return;
      this.handshakeDone = true;
    }
    if (!this.handshakeDone) {
      if (fromClient && !this.lastFromClient) {
        this.clientFlights++;
        this.ccsInFlight = false;
      }
      if (fromClient && rec.type === TLS_CHANGE_CIPHER_SPEC) this.ccsInFlight = true;
      if (fromClient) this.finishedFlight = this.ccsInFlight || this.clientFlights >= 2;
      else if (this.finishedFlight) this.handshakeDone = true;
      this.lastFromClient = fromClient;
      if (!this.handshakeDone) return;
    }
    this.emit({
      protocol: 'libvirt', kind: 'tls-record', fromClient, recordLength: rec.length,
      ...(expansion !== undefined && rec.length >= expansion ? { plaintext: rec.length - expansion } : {}),
      ts: rec.start, tsEnd: rec.ts, flowId: this.flow.id,
      src: fromClient ? this.src : this.dst, dst: fromClient ? this.dst : this.src,
    });
  }
}
