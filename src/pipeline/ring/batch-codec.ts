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

/** Messages a batch's arrays hold before they grow (a batch is posted at ~512). */
const INITIAL_CAPACITY = 1024;

/**
 * Collects one batch's messages in a worker, straight into typed arrays (no array of
 * numbers to copy at the end): they move to the main thread with the batch.
 */
export class MessagePacker {
  private kinds = new Uint8Array(INITIAL_CAPACITY);
  private nums = new Float64Array(INITIAL_CAPACITY * STRIDE);
  private count = 0;
  private numCount = 0;
  private others: ProtocolMessage[] = [];
  private endpoints: Endpoint[] = [];
  /** By object first (a flow's decoders share theirs), by value for per-packet ones (ICMP). */
  private readonly endpointByRef = new Map<Endpoint, number>();
  private readonly endpointIndex = new Map<string, number>();
  private tsBase: Picos | undefined;

  get length(): number {
    return this.count;
  }

  push(msg: ProtocolMessage): void {
    let kind = OTHER;
    if (msg.protocol === 'qemu' && msg.kind === 'ram-chunk') kind = RAM_CHUNK;
    else if (msg.protocol === 'icmp') kind = msg.kind === 'echo-request' ? ECHO_REQUEST : ECHO_REPLY;
    if (this.count === this.kinds.length) this.grow();
    if (kind !== OTHER) {
      this.tsBase ??= msg.ts;
      const ts = Number(msg.ts - this.tsBase);
      // An echo is one packet: its end is its start (one bigint subtraction saved).
      const tsEnd = msg.tsEnd === msg.ts ? ts : Number(msg.tsEnd - this.tsBase);
      if (Number.isSafeInteger(ts) && Number.isSafeInteger(tsEnd)) {
        const n = this.nums;
        const k = this.numCount;
        n[k] = ts; n[k + 1] = tsEnd; n[k + 2] = msg.flowId; n[k + 3] = this.endpoint(msg.src); n[k + 4] = this.endpoint(msg.dst);
        if (kind === RAM_CHUNK) {
          const m = msg as QemuRamChunk;
          n[k + 5] = m.iteration; n[k + 6] = m.pages; n[k + 7] = m.passBytes; n[k + 8] = m.streamBytes;
        } else {
          const m = msg as IcmpEcho;
          n[k + 5] = m.id; n[k + 6] = m.seq; n[k + 7] = 0; n[k + 8] = 0;
        }
        this.numCount = k + STRIDE;
        this.kinds[this.count++] = kind;
        return;
      }
    }
    this.kinds[this.count++] = OTHER;
    this.others.push(msg);
  }

  /** The batch so far (views over buffers the caller may transfer), and a fresh start for the next one. */
  take(): PackedMessages {
    const out: PackedMessages = {
      kinds: this.kinds.subarray(0, this.count), nums: this.nums.subarray(0, this.numCount), tsBase: this.tsBase ?? 0n,
      endpoints: this.endpoints, others: this.others,
    };
    const capacity = Math.max(INITIAL_CAPACITY, this.count);
    this.kinds = new Uint8Array(capacity);
    this.nums = new Float64Array(capacity * STRIDE);
    this.count = 0;
    this.numCount = 0;
    this.others = [];
    this.endpoints = [];
    this.endpointByRef.clear();
    this.endpointIndex.clear();
    this.tsBase = undefined;
    return out;
  }

  private grow(): void {
    const kinds = new Uint8Array(this.kinds.length * 2);
    kinds.set(this.kinds);
    const nums = new Float64Array(this.nums.length * 2);
    nums.set(this.nums);
    this.kinds = kinds;
    this.nums = nums;
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

/**
 * Reads a batch's messages back as objects, one at a time in emission order (main
 * thread): the merge builds each message only when it releases it, with no array of
 * them in between.
 */
export class PackedCursor {
  /** Messages not read yet. */
  remaining: number;
  private i = 0;
  private k = 0;
  private o = 0;

  constructor(private readonly p: PackedMessages) {
    this.remaining = p.kinds.length;
  }

  next(): ProtocolMessage {
    const p = this.p;
    const kind = p.kinds[this.i++]!;
    this.remaining--;
    if (kind === OTHER) return p.others[this.o++]!;
    const n = p.nums;
    const k = this.k;
    this.k = k + STRIDE;
    const eps = p.endpoints;
    const ts = p.tsBase + BigInt(n[k]!);
    const tsEnd = n[k + 1] === n[k] ? ts : p.tsBase + BigInt(n[k + 1]!);
    if (kind === RAM_CHUNK) {
      const m: QemuRamChunk = {
        kind: 'ram-chunk', iteration: n[k + 5]!, pages: n[k + 6]!, passBytes: n[k + 7]!, streamBytes: n[k + 8]!,
        protocol: 'qemu', ts, tsEnd, flowId: n[k + 2]!, src: eps[n[k + 3]!]!, dst: eps[n[k + 4]!]!,
      };
      return m;
    }
    const m: IcmpEcho = {
      protocol: 'icmp', kind: kind === ECHO_REQUEST ? 'echo-request' : 'echo-reply', ts, tsEnd, flowId: n[k + 2]!,
      src: eps[n[k + 3]!]!, dst: eps[n[k + 4]!]!, id: n[k + 5]!, seq: n[k + 6]!,
    };
    return m;
  }
}

/** The batch's messages as objects again, in emission order (main thread). */
export function unpackMessages(p: PackedMessages): ProtocolMessage[] {
  const cursor = new PackedCursor(p);
  const out: ProtocolMessage[] = new Array<ProtocolMessage>(cursor.remaining);
  for (let i = 0; i < out.length; i++) out[i] = cursor.next();
  return out;
}
