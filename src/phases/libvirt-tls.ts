import type { Picos } from '../core/time.js';
import type { LibvirtTlsRecord } from '../protocols/types.js';
import type { EngineContext } from './context.js';
import type { Inference } from './events.js';
import type { Migration } from './migration.js';

/**
 * A call this large (plaintext bytes, or record bytes when the suite's expansion is
 * unknown) carries a domain XML: prepare3 (the first) and finish3 (the next). The
 * calls before them are a few dozen bytes (auth-list 28, supports-feature 32,
 * connect-open 56), a keepalive 28.
 */
const LARGE_CALL = 512;
/** connect-open is the first call with a body over one XDR int (auth-list 28 B, supports-feature 32 B). */
const SMALL_CALL = 32;
/** Without plaintext sizes: libvirt's remote driver calls auth-list, supports-feature, then connect-open. */
const OPEN_CALL_INDEX = 3;
/** A keepalive PING/PONG: a bare 28-byte header; never a prepare3 or finish3 reply. */
const KEEPALIVE_BYTES = 28;

type Stage = 'connecting' | 'connected' | 'preparing' | 'prepared' | 'finishing' | 'finished';

interface Rounds {
  stage: Stage;
  /** The record last seen from each side, and whether the last record was the client's. */
  lastClient?: Picos;
  lastServer?: Picos;
  lastFromClient: boolean;
  calls: number;
  /** Plaintext (or record) bytes of the client's current flight, undefined when unknown. */
  callBytes: number;
  callSized: boolean;
  prepareReply?: { ts: Picos; inferred: Inference };
}

function size(r: LibvirtTlsRecord): number {
  return r.plaintext ?? r.recordLength;
}

/**
 * The phases of a libvirt migration whose connection is TLS (qemu+tls://, 16514), read
 * from the RPC round trips visible as record sizes and timing: a call is the client's
 * records between two of the server's, its reply the server's next ones. libvirt's
 * p2p exchange on that connection is connect-open, a few small calls, prepare3 (a
 * large call: the domain XML), the QEMU stream on its own connection, finish3 (large
 * again), then close. Each boundary is the first packet of the record identified as
 * that message — exact when the identification is right — marked `inferred`; its
 * `errorBound` is how far the neighbouring record from the same side lies (where the
 * boundary would move if the message were misidentified by one). Only the client's
 * side of the conversation is read for calls, only the server's for replies.
 */
export class LibvirtTlsRounds {
  private readonly rounds = new WeakMap<Migration, Rounds>();

  constructor(private readonly ctx: EngineContext) {}

  on(m: Migration, r: LibvirtTlsRecord): void {
    let s = this.rounds.get(m);
    if (!s) this.rounds.set(m, s = { stage: 'connecting', lastFromClient: false, calls: 0, callBytes: 0, callSized: true });
    if (r.fromClient) this.clientRecord(m, s, r);
    else this.serverRecord(m, s, r);
    if (r.fromClient) s.lastClient = r.ts; else s.lastServer = r.ts;
    s.lastFromClient = r.fromClient;
  }

  /** A migration whose libvirt connection is TLS: what its close means. */
  closed(m: Migration): void {
    const s = this.rounds.get(m);
    if (!s || m.outcome !== undefined) return;
    if ((s.stage === 'prepared' || s.stage === 'preparing') && m.streamFlow === undefined) {
      // Nothing followed prepare3: it failed (its reply's status cannot be read).
      m.fail('failed', 'no migration stream followed the prepare3 round trip (libvirt over TLS: inferred)');
      if (s.prepareReply) m.beginPhase('cleanup', s.prepareReply.ts, undefined, s.prepareReply.inferred);
      return;
    }
    if (s.stage !== 'finished' && m.streamFlow !== undefined && !m.streamEof) {
      m.fail('failed', 'libvirt TLS connection closed before finish3 and before QEMU_VM_EOF');
    }
  }

  private clientRecord(m: Migration, s: Rounds, r: LibvirtTlsRecord): void {
    const newCall = !s.lastFromClient;
    if (newCall) {
      s.calls++;
      s.callBytes = 0;
      s.callSized = true;
    }
    s.callBytes += size(r);
    if (r.plaintext === undefined) s.callSized = false;
    if (!newCall || size(r) < LARGE_CALL) return;
    const bound = s.lastClient !== undefined ? r.ts - s.lastClient : 0n;
    if (s.stage === 'connected' || s.stage === 'connecting') {
      if (s.stage === 'connecting') m.endPhase('remote-connect', r.ts, 'connect-open reply not identified in the TLS records; ended at prepare3 (duration is an upper bound)');
      s.stage = 'preparing';
      m.recognised = true;
      this.ctx.promote(m);
      m.beginPhase('preparation', r.ts, undefined, inferred('prepare3 call: the first large call after connect-open (the domain XML)', bound));
      this.ctx.tryAnnounce(m);
    } else if (s.stage === 'prepared') {
      s.stage = 'finishing';
      m.beginPhase('finish', r.ts, undefined, inferred('finish3 call: the next large call after prepare3', bound));
    }
  }

  private serverRecord(m: Migration, s: Rounds, r: LibvirtTlsRecord): void {
    // Not a reply: the check byte, a message from the server. Awaiting prepare3's or
    // finish3's reply, a keepalive exchange may come first: its 28 bytes are passed over.
    const awaiting = s.stage === 'preparing' || s.stage === 'finishing';
    if (s.calls === 0 || (!s.lastFromClient && !awaiting)) return;
    const bound = s.lastServer !== undefined ? r.ts - s.lastServer : 0n;
    switch (s.stage) {
      case 'connecting': {
        const isOpen = s.callSized ? s.callBytes > SMALL_CALL : s.calls === OPEN_CALL_INDEX;
        if (!isOpen) return;
        s.stage = 'connected';
        m.endPhaseInferred('remote-connect', r.ts, inferred(s.callSized
          ? 'connect-open reply: the reply to the first call with a body beyond one int'
          : 'connect-open reply: the reply to the third call (record sizes unknown under this cipher suite)', bound));
        return;
      }
      case 'preparing':
        if (r.plaintext === KEEPALIVE_BYTES) return;
        s.stage = 'prepared';
        s.prepareReply = { ts: r.ts, inferred: inferred('prepare3 reply: the server\'s first record after the prepare3 call', bound) };
        m.endPhaseInferred('preparation', r.ts, s.prepareReply.inferred);
        return;
      case 'finishing': {
        if (r.plaintext === KEEPALIVE_BYTES) return;
        s.stage = 'finished';
        const reply = inferred('finish3 reply: the server\'s first record after the finish3 call', bound);
        m.endPhaseInferred('finish', r.ts, reply);
        m.beginPhase('cleanup', r.ts, undefined, reply);
        return;
      }
      default:
    }
  }
}

function inferred(what: string, errorBound: Picos): Inference {
  return { how: `libvirt over TLS: ${what}`, errorBound };
}
