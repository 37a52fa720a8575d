import type { Picos } from '../core/time.js';
import type { QemuMessage } from '../protocols/types.js';
import type { BareQemuMigrations } from './bare-qemu.js';
import type { EngineContext } from './context.js';

/** Least bytes an encrypted connection must carry to be reported as a migration without libvirt. */
const MIN_ENCRYPTED_BYTES = 1 << 20;

type EncryptedMessage = Extract<QemuMessage, { kind: 'encrypted' | 'encrypted-end' }>;

/**
 * TLS migration connections (QEMU native TLS). Their stream cannot be read: Transfer is
 * the connection's SYN → FIN, each boundary marked inferred with its error bound (the
 * TLS handshake before the first application-data record; the time from the last one
 * to the FIN), the bytes come from the TCP sequence space. Without libvirt, a
 * migration is only reported once the connection closed having carried at least
 * MIN_ENCRYPTED_BYTES (any TLS service on a migration port is not one).
 */
export class EncryptedStreams {
  constructor(
    private readonly ctx: EngineContext,
    private readonly bare: BareQemuMigrations,
    /** When the connection's SYN (or SYN-ACK) was seen, if it was. */
    private readonly openedAt: (flowId: number) => Picos | undefined,
  ) {}

  on(msg: EncryptedMessage): void {
    let m = this.ctx.flowOwner.get(msg.flowId);
    if (msg.kind === 'encrypted') {
      if (m && m.streamFlow === msg.flowId) m.encryptedStream = true;
      return;
    }
    if (!m) {
      if (this.ctx.retiredFlows.has(msg.flowId) || msg.streamBytes < MIN_ENCRYPTED_BYTES) return;
      m = this.bare.ownerFor(msg.src.ip, msg.dst.ip, true);
      if (!m) return;
      const opened = this.openedAt(msg.flowId);
      const start = opened ?? msg.firstData ?? msg.ts;
      m.streamFlow = msg.flowId;
      m.streamServer = msg.dst;
      m.encryptedStream = true;
      this.ctx.flowOwner.set(msg.flowId, m);
      m.beginPhase('transfer', start, opened !== undefined ? undefined : 'connection opening not captured', {
        how: 'encrypted stream (TLS): the connection\'s SYN; the stream proper begins with the first application-data record',
        errorBound: (msg.firstData ?? start) - start,
      });
      this.ctx.tryAnnounce(m);
    }
    if (m.streamFlow !== msg.flowId) return;
    m.encrypted = { transport: msg.transport, bytes: msg.streamBytes, returnBytes: msg.returnBytes, records: msg.records };
    m.streamEof = true; // as far as can be known: an orderly close
    if (!m.ended('transfer')) {
      m.endPhaseInferred('transfer', msg.ts, {
        how: 'encrypted stream (TLS): the connection\'s close; QEMU_VM_EOF is not visible, the last application-data record came errorBound before',
        errorBound: msg.ts - (msg.lastData ?? msg.ts),
      });
    }
    if (m.qemuOnly) this.ctx.close(m, msg.ts);
  }
}
