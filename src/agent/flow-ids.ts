import type { ProtocolMessage } from '../protocols/types.js';

/**
 * Each MP's Dissector numbers its flows on its own, but the phase engine follows
 * connections by flowId. This gives every connection one id across MPs: the k-th
 * connection an MP saw on a 5-tuple is the k-th connection every other MP saw on it.
 * Bounded: the least recently used mappings are forgotten past `max`.
 */
export class FlowIdMap {
  private next = 1;
  /** "mp\0localId" → global id. */
  private readonly local = new Map<string, number>();
  /** "mp\0tuple" → connections that MP saw on the tuple so far. */
  private readonly generation = new Map<string, number>();
  /** "tuple#k" → global id. */
  private readonly global = new Map<string, number>();

  constructor(private readonly max = 200_000) {}

  /** The message's flowId in the merged numbering (connectionless -1 stays -1). */
  map(mp: string, msg: ProtocolMessage): number {
    if (msg.flowId < 0) return msg.flowId;
    const lk = `${mp}\0${msg.flowId}`;
    const known = this.local.get(lk);
    if (known !== undefined) {
      this.local.delete(lk);
      this.local.set(lk, known);
      return known;
    }
    const a = `${msg.src.ip}:${msg.src.port}`;
    const b = `${msg.dst.ip}:${msg.dst.port}`;
    const tuple = a < b ? `${a}-${b}` : `${b}-${a}`;
    const gk = `${mp}\0${tuple}`;
    const k = (this.generation.get(gk) ?? 0) + 1;
    this.remember(this.generation, gk, k);
    const ck = `${tuple}#${k}`;
    let id = this.global.get(ck);
    if (id === undefined) this.remember(this.global, ck, (id = this.next++));
    this.remember(this.local, lk, id);
    return id;
  }

  private remember<V>(m: Map<string, V>, k: string, v: V): void {
    m.delete(k);
    m.set(k, v);
    if (m.size > this.max) m.delete(m.keys().next().value!);
  }
}
