import type { Picos } from '../core/time.js';
import type { AmqpMessage, HttpMessage, TcpSegmentMarker } from '../protocols/types.js';
import { peerHypervisor, type EngineContext } from './context.js';
import type { Migration } from './migration.js';
import { isTokenPath, serverActionIdOf, serverIdOf } from './nova-paths.js';

const MAX_PER_CLIENT = 64;
const KEYSTONE_PORTS: ReadonlySet<number> = new Set([5000, 35357]);
const MAX_KEYSTONE_SYNS = 1024;

interface PendingRequest { ts: Picos; client: string; auth: boolean }
interface Span { start: Picos; end: Picos; uncertain?: string }
interface PendingCall { m: Migration; kind: 'pre' | 'post'; caller: string; method: string }

/**
 * The OpenStack part of a migration: authentication (Keystone), initialization
 * (nova-api → pre_live_migration) and post-migration, attributed to the right
 * migration by client host, instance uuid and oslo message id.
 */
export class OpenStackTracker {
  private readonly requests = new Map<number, PendingRequest[]>();
  /** Completed token requests per client host, not yet attributed to a migration. */
  private readonly auths = new Map<string, Span[]>();
  /** First GET /servers/{id} per "client|uuid" since that instance last migrated. */
  private readonly gets = new Map<string, Picos>();
  private readonly calls = new Map<string, PendingCall>();
  /** SYN time of connections to Keystone: bounds a token request that was not captured. */
  private readonly keystoneSyns = new Map<number, Picos>();

  constructor(private readonly ctx: EngineContext) {}

  onTcp(msg: TcpSegmentMarker): void {
    if (msg.kind !== 'syn' || !KEYSTONE_PORTS.has(msg.dst.port)) return;
    if (this.keystoneSyns.size >= MAX_KEYSTONE_SYNS) this.keystoneSyns.delete(this.keystoneSyns.keys().next().value!);
    this.keystoneSyns.set(msg.flowId, msg.ts);
  }

  onHttp(msg: HttpMessage): void {
    if (msg.kind === 'request') {
      const client = msg.src.ip;
      const auth = msg.method === 'POST' && isTokenPath(msg.path);
      let q = this.requests.get(msg.flowId);
      if (!q) this.requests.set(msg.flowId, (q = []));
      q.push({ ts: msg.ts, client, auth });
      if (q.length > MAX_PER_CLIENT) q.shift();
      const server = msg.method === 'GET' ? serverIdOf(msg.path) : undefined;
      if (server !== undefined && server !== 'detail') {
        const key = `${client}|${server}`;
        if (!this.gets.has(key)) this.gets.set(key, msg.ts);
      }
      const action = msg.method === 'POST' ? serverActionIdOf(msg.path) : undefined;
      if (action !== undefined && msg.jsonKeys?.includes('os-migrateLive')) {
        this.recognise(action, client, msg.ts);
      }
      return;
    }
    const q = this.requests.get(msg.flowId);
    if (!q || q.length === 0) {
      // A token issued whose request was not captured: bounded by the connection's SYN.
      const syn = this.keystoneSyns.get(msg.flowId);
      const token = msg.subjectToken === true || (msg.requestPath !== undefined && isTokenPath(msg.requestPath))
        || (KEYSTONE_PORTS.has(msg.src.port) && msg.status >= 200 && msg.status < 300);
      if (token) {
        this.addAuth(msg.dst.ip, { start: syn ?? msg.ts, end: msg.ts,
          uncertain: `token request not captured; started at ${syn !== undefined ? "the connection's SYN" : 'its response'} (duration is ${syn !== undefined ? 'an upper' : 'a lower'} bound)` });
      }
      return;
    }
    // HTTP/1.1 answers in order; the decoder's requestTs pins the pairing when known.
    let i = msg.requestTs !== undefined ? q.findIndex((r) => r.ts === msg.requestTs) : 0;
    if (i < 0) i = 0;
    const req = q.splice(i, 1)[0]!;
    if (req.auth) this.addAuth(req.client, { start: req.ts, end: msg.ts });
  }

  private addAuth(client: string, span: Span): void {
    let list = this.auths.get(client);
    if (!list) this.auths.set(client, (list = []));
    list.push(span);
    if (list.length > MAX_PER_CLIENT) list.shift();
  }

  onAmqp(msg: AmqpMessage): void {
    const o = msg.oslo;
    if (!o) return;
    if (msg.kind === 'publish' && o.method !== undefined && !o.isReply) {
      this.onRpc(msg, o.method);
      return;
    }
    if (msg.kind !== 'deliver' || !o.isReply || o.msgId === undefined) return;
    const call = this.calls.get(o.msgId) ?? this.lostPostCall(msg);
    // Only the reply as delivered to the caller counts (a broker-side capture also
    // sees the callee publishing it).
    if (!call || msg.dst.ip !== call.caller) return;
    const m = call.m;
    if (o.failure !== undefined) m.fail('failed', `${call.method} failed: ${o.failure.split('\n')[0]}`);
    else if (o.ending !== true) return;
    this.calls.delete(o.msgId);
    if (call.kind === 'pre') m.endPhase('initialization', msg.ts);
    else m.endPhase('post-migration', msg.ts);
    this.ctx.settle(m, msg.ts);
  }

  private onRpc(msg: AmqpMessage, method: string): void {
    const o = msg.oslo!;
    const caller = msg.src.ip;
    const uuid = o.instanceUuid;
    switch (method) {
      case 'pre_live_migration': {
        const m = (uuid !== undefined ? this.byUuid(uuid) : undefined) ?? this.recognise(uuid, undefined, msg.ts);
        m.novaSource = caller;
        if (!m.announced && this.ctx.roles.source === undefined) {
          m.source = caller;
          // Two hypervisors named: the destination is the other one, known now.
          m.destination ??= peerHypervisor(this.ctx.roles, caller);
        }
        if (!m.has('initialization')) {
          m.beginPhase('initialization', msg.ts,
            'GET /servers/{id} not captured; started at the pre_live_migration call (duration is a lower bound)');
        }
        if (o.isCall && o.msgId !== undefined) this.calls.set(o.msgId, { m, kind: 'pre', caller, method });
        this.ctx.tryAnnounce(m);
        break;
      }
      case 'post_live_migration_at_destination': {
        const m = this.find(uuid, caller);
        if (!m) return;
        m.beginPhase('post-migration', msg.ts);
        if (o.isCall && o.msgId !== undefined) this.calls.set(o.msgId, { m, kind: 'post', caller, method });
        break;
      }
      case 'rollback_live_migration_at_destination': {
        const m = this.find(uuid, caller);
        if (!m) return;
        m.fail('failed', 'nova rolled the migration back (rollback_live_migration_at_destination)');
        m.rollbackSeen = true;
        this.ctx.settle(m, msg.ts);
        break;
      }
      default:
        break;
    }
  }

  /**
   * A final reply for a call we never saw, delivered to a source compute whose
   * migration finished its libvirt part and awaits post-migration: the
   * post_live_migration_at_destination call was lost. Its start is then a bound.
   */
  private lostPostCall(msg: AmqpMessage): PendingCall | undefined {
    if (msg.oslo?.ending !== true) return undefined;
    const m = this.ctx.open.find((x) => x.scenario === 'openstack' && x.libvirtDone && x.outcome === undefined
      && !x.has('post-migration') && (x.novaSource ?? x.source) === msg.dst.ip);
    if (!m) return undefined;
    return { m, kind: 'post', caller: msg.dst.ip, method: 'post_live_migration_at_destination' };
  }

  private byUuid(uuid: string): Migration | undefined {
    return this.ctx.open.find((x) => x.instanceUuid === uuid || x.domainUuid === uuid);
  }

  private find(uuid: string | undefined, caller: string): Migration | undefined {
    if (uuid !== undefined) {
      const m = this.byUuid(uuid);
      if (m) return m;
    }
    return this.ctx.open.find((x) => x.scenario === 'openstack' && (x.novaSource ?? x.source) === caller);
  }

  /** An OpenStack migration is recognised (os-migrateLive, or its pre_live_migration). */
  private recognise(uuid: string | undefined, client: string | undefined, ts: Picos): Migration {
    const existing = uuid !== undefined ? this.byUuid(uuid) : undefined;
    if (existing) return existing;
    const m = this.ctx.create('openstack');
    m.recognised = true;
    if (uuid !== undefined) m.instanceUuid = uuid;
    let getTs: Picos | undefined;
    if (uuid !== undefined) {
      for (const [key, t] of this.gets) {
        const [c, id] = key.split('|');
        if (id !== uuid || (client !== undefined && c !== client)) continue;
        client ??= c;
        getTs = t;
        this.gets.delete(key);
        break;
      }
    }
    const auth = client !== undefined ? this.claimAuth(client, getTs ?? ts) ?? this.unansweredAuth(client, getTs ?? ts) : undefined;
    if (auth) {
      m.beginPhase('authentication', auth.start);
      m.endPhase('authentication', auth.end, auth.uncertain);
    }
    if (getTs !== undefined) m.beginPhase('initialization', getTs);
    else if (client !== undefined) {
      m.beginPhase('initialization', ts, 'GET /servers/{id} not captured; started at the os-migrateLive request (duration is a lower bound)');
    }
    const roles = this.ctx.roles;
    if (roles.source !== undefined) m.source = roles.source;
    if (roles.destination !== undefined) m.destination = roles.destination;
    this.ctx.tryAnnounce(m);
    return m;
  }

  /** A token request by `client` still unanswered at `before` (its response was lost):
   *  it ended before the client went on, at `before` at the latest. */
  private unansweredAuth(client: string, before: Picos): Span | undefined {
    for (const q of this.requests.values()) {
      const i = q.findIndex((r) => r.auth && r.client === client && r.ts < before);
      if (i < 0) continue;
      const req = q.splice(i, 1)[0]!;
      return { start: req.ts, end: before, uncertain: 'token response not captured; ended at the next request of the client (duration is an upper bound)' };
    }
    return undefined;
  }

  /** The latest token obtained by `client` before `before` (a CLI authenticates right
   *  before it acts; older tokens belong to earlier commands). */
  private claimAuth(client: string, before: Picos): Span | undefined {
    const list = this.auths.get(client);
    if (!list) return undefined;
    let i = list.length - 1;
    while (i >= 0 && list[i]!.end > before) i--;
    if (i < 0) return undefined;
    const auth = list[i]!;
    list.splice(i, 1);
    return auth;
  }
}
