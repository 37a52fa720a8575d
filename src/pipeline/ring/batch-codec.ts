import type { Picos } from '../../core/time.js';
import type { Endpoint } from '../../decode/types.js';
import type { IcmpEcho, ProtocolMessage, QemuRamChunk } from '../../protocols/types.js';

/**
 * The two message kinds that flood a migration capture (a QEMU RAM chunk every few
 * stream packets, an ICMP echo every 100 ms per pinger) travel from a decode worker to
 * the main thread as numbers in one Float64Array instead of as objects: structured
 * clone rebuilds a small object in ~5 µs, which made the main thread, not the workers,
 * the ring path's bottleneck. Everything else is cloned as before. The main thread
 * rebuilds each packed message as a literal with the same fields in the same order, so
 * consumers (and NDJSON output) cannot tell the difference.
 */
export interface PackedMessages {
  /** Per message, in emission order: 0 = next of `others`, else a packed kind. */
  kinds: Uint8Array;
  /** STRIDE numbers per packed message. */
  nums: Float64Array;
  /** Wire times are stored as ps after this base (exact while < 2^53 ps ≈ 2.5 h). */
  tsBase: Picos;
  endpoints: Endpoint[];
  others: ProtocolMessage[];
}

const OTHER = 0;
const RAM_CHUNK = 1;
const ECHO_REQUEST = 2;
const ECHO_REPLY = 3;
const STRIDE = 9;

/** Collects one batch's messages in a worker. */
export class MessagePacker {
  private kinds: number[] = [];
  private nums: number[] = [];
  private others: ProtocolMessage[] = [];
  private endpoints: Endpoint[] = [];
  /** By object first (a flow's decoders share theirs), by value for per-packet ones (ICMP). */
  private readonly endpointByRef = new Map<Endpoint, number>();
  private readonly endpointIndex = new Map<string, number>();
  private tsBase: Picos | undefined;

  get length(): number {
    return this.kinds.length;
  }

  push(msg: ProtocolMessage): void {
    let kind = OTHER;
    if (msg.protocol === 'qemu' && msg.kind === 'ram-chunk') kind = RAM_CHUNK;
    else if (msg.protocol === 'icmp') kind = msg.kind === 'echo-request' ? ECHO_REQUEST : ECHO_REPLY;
    if (kind !== OTHER) {
      this.tsBase ??= msg.ts;
      const ts = Number(msg.ts - this.tsBase);
      const tsEnd = Number(msg.tsEnd - this.tsBase);
      if (Number.isSafeInteger(ts) && Number.isSafeInteger(tsEnd)) {
        const n = this.nums;
        n.push(ts, tsEnd, msg.flowId, this.endpoint(msg.src), this.endpoint(msg.dst));
        if (kind === RAM_CHUNK) {
          const m = msg as QemuRamChunk;
          n.push(m.iteration, m.pages, m.passBytes, m.streamBytes);
        } else {
          const m = msg as IcmpEcho;
          n.push(m.id, m.seq, 0, 0);
        }
        this.kinds.push(kind);
        return;
      }
    }
    this.kinds.push(OTHER);
    this.others.push(msg);
  }

  /** The batch so far (transferable buffers), and a fresh start for the next one. */
  take(): PackedMessages {
    const out: PackedMessages = {
      kinds: Uint8Array.from(this.kinds), nums: Float64Array.from(this.nums), tsBase: this.tsBase ?? 0n,
      endpoints: this.endpoints, others: this.others,
    };
    this.kinds = [];
    this.nums = [];
    this.others = [];
    this.endpoints = [];
    this.endpointByRef.clear();
    this.endpointIndex.clear();
    this.tsBase = undefined;
    return out;
  }

  private endpoint(e: Endpoint): number {
    let i = this.endpointByRef.get(e);
    if (i !== undefined) return i;
    const key = `${e.ip}|${e.port}`;
    i = this.endpointIndex.get(key);
    if (i === undefined) {
      i = this.endpoints.length;
      this.endpoints.push(e);
      this.endpointIndex.set(key, i);
    }
    this.endpointByRef.set(e, i);
    return i;
  }
}

/** The batch's messages as objects again, in emission order (main thread). */
export function unpackMessages(p: PackedMessages): ProtocolMessage[] {
  const out: ProtocolMessage[] = new Array<ProtocolMessage>(p.kinds.length);
  const n = p.nums;
  const eps = p.endpoints;
  let o = 0;
  let k = 0;
  for (let i = 0; i < p.kinds.length; i++) {
    const kind = p.kinds[i]!;
    if (kind === OTHER) { out[i] = p.others[o++]!; continue; }
    const ts = p.tsBase + BigInt(n[k]!);
    const tsEnd = n[k + 1] === n[k] ? ts : p.tsBase + BigInt(n[k + 1]!);
    if (kind === RAM_CHUNK) {
      const m: QemuRamChunk = {
        kind: 'ram-chunk', iteration: n[k + 5]!, pages: n[k + 6]!, passBytes: n[k + 7]!, streamBytes: n[k + 8]!,
        protocol: 'qemu', ts, tsEnd, flowId: n[k + 2]!, src: eps[n[k + 3]!]!, dst: eps[n[k + 4]!]!,
      };
      out[i] = m;
    } else {
      const m: IcmpEcho = {
        protocol: 'icmp', kind: kind === ECHO_REQUEST ? 'echo-request' : 'echo-reply', ts, tsEnd, flowId: n[k + 2]!,
        src: eps[n[k + 3]!]!, dst: eps[n[k + 4]!]!, id: n[k + 5]!, seq: n[k + 6]!,
      };
      out[i] = m;
    }
    k += STRIDE;
  }
  return out;
}
