import type { LibvirtRpcMessage } from '../protocols/types.js';
import type { EngineContext } from './context.js';

/** Calls remembered at once (a client may poll without end; the oldest is forgotten). */
const MAX_JOB_STATS_CALLS = 1024;

/**
 * libvirt job stats on the link (a management client polling the migration, e.g.
 * `virsh domjobinfo` from another host): the reply's auto-converge throttle goes to the
 * open migration of the domain the call named (the reply does not name it).
 */
export class JobStatsThrottle {
  /** DOMAIN_GET_JOB_STATS calls awaiting their reply (flow:serial → domain uuid or name). */
  private readonly calls = new Map<string, string>();

  constructor(private readonly ctx: EngineContext) {}

  on(msg: LibvirtRpcMessage): void {
    const key = `${msg.flowId}:${msg.serial}`;
    if (msg.kind === 'call') {
      const domain = msg.migration?.domainUuid ?? msg.migration?.domainName;
      if (domain === undefined) return;
      if (this.calls.size >= MAX_JOB_STATS_CALLS) this.calls.delete(this.calls.keys().next().value!);
      this.calls.set(key, domain);
      return;
    }
    const domain = this.calls.get(key);
    this.calls.delete(key);
    const throttle = msg.migration?.autoConvergeThrottle;
    if (domain === undefined || throttle === undefined) return;
    const m = this.ctx.open.find((x) => x.outcome === undefined && !x.ended('transfer') && (x.domainUuid === domain || x.domain === domain));
    if (!m) return;
    const t = m.cpuThrottle;
    m.cpuThrottle = { last: throttle, max: Math.max(t?.max ?? 0, throttle), samples: (t?.samples ?? 0) + 1 };
  }
}
