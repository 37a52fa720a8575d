import type { Picos } from '../core/time.js';
import type { Endpoint } from '../decode/types.js';
import type { MultifdMessage } from '../protocols/types.js';
import type { EngineContext } from './context.js';
import type { Migration } from './migration.js';
import { MultifdAccount } from './multifd.js';

/** Destinations with multifd channels waiting for their main stream. */
const MAX_UNCLAIMED = 64;

interface Waiting { account: MultifdAccount; flows: number[] }

function channelKey(client: string, server: Endpoint): string {
  return `${client}>${server.ip}:${server.port}`;
}

/**
 * Attributes multifd channels to their migration: the one whose main stream goes from
 * the same source to the same destination address and port and began before it (QEMU
 * opens the main channel first); with several, the one that began last. Channels that
 * come before their main stream's first record wait aside, counted, until it claims them.
 */
export class MultifdChannels {
  /** multifd channels not yet claimed by a main stream, by source>destination:port. */
  private readonly unclaimed = new Map<string, Waiting>();
  private readonly unclaimedFlows = new Map<number, Waiting>();

  constructor(
    private readonly ctx: EngineContext,
    /** When the connection's SYN (or SYN-ACK) was seen, if it was. */
    private readonly openedAt: (flowId: number) => Picos | undefined,
    /** A channel's packet began a new pass (or was counted): progress may be due. */
    private readonly counted: (m: Migration, ts: Picos) => void,
    /** A channel of `m` ended: a migration waiting for its channels may close. */
    private readonly channelEnded: (m: Migration) => void,
  ) {}

  on(msg: MultifdMessage): void {
    const m = this.ctx.flowOwner.get(msg.flowId);
    if (!m) {
      const waiting = this.unclaimedFlows.get(msg.flowId);
      if (waiting) { count(waiting.account, msg); return; }
      if (msg.kind !== 'multifd-channel' || this.ctx.retiredFlows.has(msg.flowId)) return;
      const opened = this.openedAt(msg.flowId) ?? msg.ts;
      let best: Migration | undefined;
      for (const x of this.ctx.open) {
        const start = x.phases.get('transfer')?.start;
        if (x.streamFlow === undefined || x.streamEof || start === undefined || start > opened) continue;
        if (x.source !== msg.src.ip || x.streamServer?.ip !== msg.dst.ip || x.streamServer.port !== msg.dst.port) continue;
        if (!best || start > best.phases.get('transfer')!.start!) best = x;
      }
      if (!best) { this.hold(msg); return; }
      best.multifd ??= new MultifdAccount();
      if (!best.multifd.open(msg.flowId, msg.channel, msg.streamBytes)) return;
      this.ctx.flowOwner.set(msg.flowId, best);
      return;
    }
    const mf = m.multifd;
    if (!mf?.has(msg.flowId)) return;
    if (count(mf, msg)) this.counted(m, msg.ts);
    if (msg.kind === 'multifd-end') this.channelEnded(m);
  }

  /** A main stream from `client` to `server` began: it takes the channels waiting for it. */
  claim(m: Migration, client: string, server: Endpoint): void {
    const key = channelKey(client, server);
    const waiting = this.unclaimed.get(key);
    if (!waiting) return;
    this.unclaimed.delete(key);
    m.multifd = waiting.account;
    for (const f of waiting.flows) {
      this.unclaimedFlows.delete(f);
      this.ctx.flowOwner.set(f, m);
    }
  }

  /**
   * A channel that opened before its main stream's first record was decoded (QEMU
   * buffers the main stream; the channels' setup packets can come first): counted
   * aside until a main stream from the same source to the same address and port claims it.
   */
  private hold(msg: Extract<MultifdMessage, { kind: 'multifd-channel' }>): void {
    const key = channelKey(msg.src.ip, msg.dst);
    let waiting = this.unclaimed.get(key);
    if (!waiting) {
      if (this.unclaimed.size >= MAX_UNCLAIMED) {
        const oldest = this.unclaimed.entries().next().value;
        if (oldest) {
          this.unclaimed.delete(oldest[0]);
          for (const f of oldest[1].flows) this.unclaimedFlows.delete(f);
        }
      }
      waiting = { account: new MultifdAccount(), flows: [] };
      this.unclaimed.set(key, waiting);
    }
    if (!waiting.account.open(msg.flowId, msg.channel, msg.streamBytes)) return;
    waiting.flows.push(msg.flowId);
    this.unclaimedFlows.set(msg.flowId, waiting);
  }
}

/** Counts a channel's packet or end; true when a new pass began. */
function count(mf: MultifdAccount, msg: MultifdMessage): boolean {
  if (msg.kind === 'multifd-packet') return mf.packet(msg.flowId, msg);
  if (msg.kind === 'multifd-end') mf.end(msg.flowId, msg.streamBytes);
  return false;
}
