import type { Picos } from '../../core/time.js';
import { type PacketSource, sourceOf } from '../source.js';
import * as amqp from '../wire/amqp.js';
import { httpRequest, httpResponse } from '../wire/http.js';
import { type OsloContext, osloReply, osloRequest } from '../wire/oslo.js';
import { tcpConnection } from '../wire/tcp-connection.js';
import type { GuestSpec } from './domain.js';
import { at, MessageLists, type World } from './world.js';

/** The source compute's one long-lived AMQP connection to RabbitMQ, shared by all migrations. */
export class AmqpSession {
  readonly lists = new MessageLists();
  readonly replyQueue: string;
  readonly computeTag: string;
  readonly replyTag: string;
  private deliveryTag = 0n;
  readonly channel = 1;

  constructor(private readonly w: World, readonly openAt: Picos) {
    this.replyQueue = `reply_${w.rng.hex32()}`;
    this.computeTag = w.rng.uuid();
    this.replyTag = w.rng.uuid();
    const L = this.lists;
    let t = openAt;
    const step = (s: number): Picos => (t = at(t, s));
    L.add('client', step(0.0003), amqp.PROTOCOL_HEADER);
    L.add('server', step(0.0006), amqp.connectionStart());
    L.add('client', step(0.0004), amqp.connectionStartOk('openstack', 'secret'));
    L.add('server', step(0.0005), amqp.connectionTune(60));
    L.add('client', step(0.0002), amqp.concatBytes([amqp.connectionTuneOk(60), amqp.connectionOpen('/')]));
    L.add('server', step(0.0005), amqp.connectionOpenOk());
    L.add('client', step(0.0002), amqp.channelOpen(1));
    L.add('server', step(0.0004), amqp.channelOpenOk(1));
    L.add('client', step(0.0003), amqp.basicConsume(1, `compute.${w.sourceName}`, this.computeTag));
    L.add('server', step(0.0004), amqp.basicConsumeOk(1, this.computeTag));
    L.add('client', step(0.0003), amqp.basicConsume(1, this.replyQueue, this.replyTag));
    L.add('server', step(0.0004), amqp.basicConsumeOk(1, this.replyTag));
  }

  /** Broker → source compute delivery, acknowledged by the consumer shortly after. */
  deliver(t: Picos, toReplyQueue: boolean, routingKey: string, body: Uint8Array, marker?: string): void {
    const tag = ++this.deliveryTag;
    const exchange = toReplyQueue ? routingKey : 'nova';
    this.lists.add('server', t, amqp.basicDeliver(this.channel, toReplyQueue ? this.replyTag : this.computeTag, tag, exchange, routingKey, body), marker);
    this.lists.add('client', at(t, 0.0008), amqp.basicAck(this.channel, tag));
  }

  publish(t: Picos, exchange: string, routingKey: string, body: Uint8Array, marker?: string): void {
    this.lists.add('client', t, amqp.basicPublish(this.channel, exchange, routingKey, body), marker);
  }

  /** Heartbeats both ways every `interval` seconds between open and close. */
  source(closeAt: Picos, interval = 10): PacketSource {
    for (let t = at(this.openAt, interval); t < at(closeAt, -0.05); t = at(t, interval)) {
      this.lists.add('client', t, amqp.heartbeat());
      this.lists.add('server', at(t, 0.003), amqp.heartbeat());
    }
    const w = this.w;
    return sourceOf(tcpConnection({
      client: w.source, server: w.controller, clientPort: w.nextPort(), serverPort: 5672, synAt: this.openAt,
      clientMessages: this.lists.sorted('client'), serverMessages: this.lists.sorted('server'),
      close: { at: closeAt, by: 'client' }, clientDelay: w.localDelay, serverDelay: w.peerDelay, linkBps: w.linkBps,
      resolution: w.resolution, rng: w.rng,
    }));
  }
}

export interface NovaFrontEnd {
  sources: PacketSource[];
  /** Planned start of the libvirt migration (after pre_live_migration's reply). */
  initEnd: Picos;
}

function httpConn(w: World, port: number, l: MessageLists, synAt: Picos, closeAt: Picos): PacketSource {
  return sourceOf(tcpConnection({
    client: w.source, server: w.controller, clientPort: w.nextPort(), serverPort: port, synAt,
    clientMessages: l.sorted('client'), serverMessages: l.sorted('server'), close: { at: closeAt, by: 'client' },
    clientDelay: w.localDelay, serverDelay: w.peerDelay, linkBps: w.linkBps, resolution: w.resolution, rng: w.rng,
  }));
}

export interface NovaTimes {
  start: Picos;
  authentication: number;
  gapAuthInit: number;
  initialization: number;
}

/**
 * Authentication and initialization as the nova client on the source compute drives
 * them (study §5.2): Keystone token, GET server, POST os-migrateLive, then the RPCs the
 * source compute takes part in: check_can_live_migrate_source (call), live_migration
 * (cast), pre_live_migration to the destination (call, reply with ending: true).
 */
export function novaFrontEnd(w: World, id: string, guest: GuestSpec, ctx: OsloContext, amqpS: AmqpSession, t: NovaTimes): NovaFrontEnd {
  const m = (name: string): string => `${id}:${name}`;
  const token = `gAAAAAB${w.rng.hex32()}${w.rng.hex32()}`;
  const ks = new MessageLists();
  const authEnd = at(t.start, t.authentication);
  ks.add('client', t.start, httpRequest('POST', '/v3/auth/tokens', `${w.controller.ip}:5000`, {}, {
    auth: { identity: { methods: ['password'], password: { user: { name: 'admin', domain: { id: 'default' }, password: 'secret' } } },
      scope: { project: { name: 'admin', domain: { id: 'default' } } } },
  }), m('auth-request'));
  ks.add('server', authEnd, httpResponse(201, { 'X-Subject-Token': token, Vary: 'X-Auth-Token', 'x-openstack-request-id': `req-${w.rng.uuid()}` }, {
    token: { methods: ['password'], user: { domain: { id: 'default', name: 'Default' }, id: ctx.userId, name: 'admin' },
      audit_ids: [w.rng.hex32().slice(0, 22)], expires_at: '2026-11-25T12:00:00.000000Z', issued_at: '2026-11-25T11:00:00.000000Z',
      project: { domain: { id: 'default', name: 'Default' }, id: ctx.projectId, name: 'admin' }, is_domain: false,
      roles: [{ id: w.rng.hex32(), name: 'admin' }, { id: w.rng.hex32(), name: 'member' }],
      catalog: [{ type: 'compute', name: 'nova', endpoints: [{ interface: 'public', region: 'RegionOne', url: `http://${w.controller.ip}:8774/v2.1` }] }] },
  }), m('auth-response'));
  const sources = [httpConn(w, 5000, ks, at(t.start, -0.0004), at(authEnd, 0.002))];

  const tI = at(authEnd, t.gapAuthInit);
  const D = t.initialization;
  const api = new MessageLists();
  const hdr = { 'X-Auth-Token': token, 'X-OpenStack-Nova-API-Version': '2.1' };
  api.add('client', tI, httpRequest('GET', `/v2.1/servers/${guest.uuid}`, `${w.controller.ip}:8774`, hdr), m('servers-get'));
  api.add('server', at(tI, 0.045), httpResponse(200, { 'OpenStack-API-Version': 'compute 2.1', 'x-openstack-request-id': ctx.requestId }, {
    server: { id: guest.uuid, name: guest.name.replace('instance', 'vm'), status: 'ACTIVE', 'OS-EXT-SRV-ATTR:host': w.sourceName,
      'OS-EXT-SRV-ATTR:instance_name': guest.name, addresses: { private: [{ addr: guest.ip, version: 4, 'OS-EXT-IPS-MAC:mac_addr': guest.mac }] } },
  }));
  api.add('client', at(tI, 0.06), httpRequest('POST', `/v2.1/servers/${guest.uuid}/action`, `${w.controller.ip}:8774`, hdr, {
    'os-migrateLive': { host: w.destinationName, block_migration: false, disk_over_commit: false },
  }));
  api.add('server', at(tI, 0.06 + 0.11), httpResponse(202, { 'x-openstack-request-id': ctx.requestId }));
  sources.push(httpConn(w, 8774, api, at(tI, -0.0004), at(tI, 0.06 + 0.11 + 0.002)));

  const instance = { uuid: guest.uuid, name: guest.name, host: w.sourceName };
  const checkId = w.rng.hex32();
  amqpS.deliver(at(tI, D * 0.4), false, `compute.${w.sourceName}`, osloRequest(w.rng, ctx, 'check_can_live_migrate_source', {
    instance, dest_check_data: { filename: 'tmp' + w.rng.hex32().slice(0, 8), block_migration: false, disk_over_commit: false, is_volume_backed: false },
  }, { msgId: checkId, replyQueue: 'reply_' + w.rng.hex32() }));
  amqpS.publish(at(tI, D * 0.4 + 0.03), '', 'reply_conductor', osloReply(w.rng, checkId, { block_migration: false, is_shared_instance_path: true }));
  amqpS.deliver(at(tI, D * 0.7), false, `compute.${w.sourceName}`, osloRequest(w.rng, ctx, 'live_migration', {
    instance, dest: w.destinationName, block_migration: false, migration: { id: 1, status: 'queued' }, migrate_data: {},
  }, null));
  const preId = w.rng.hex32();
  amqpS.publish(at(tI, D * 0.75), 'nova', `compute.${w.destinationName}`, osloRequest(w.rng, ctx, 'pre_live_migration', {
    instance, block_migration: false, disk: null, migrate_data: { is_shared_instance_path: true, serial_listen_addr: null },
  }, { msgId: preId, replyQueue: amqpS.replyQueue }));
  const initEnd = at(tI, D);
  amqpS.deliver(initEnd, true, amqpS.replyQueue, osloReply(w.rng, preId, { is_shared_instance_path: true, graphics_listen_addr_vnc: '0.0.0.0' }), m('pre-live-reply'));
  return { sources, initEnd };
}

/** post_live_migration_at_destination (call from the source compute) and its final reply. */
export function novaPostMigration(w: World, id: string, guest: GuestSpec, ctx: OsloContext, amqpS: AmqpSession, start: Picos, dur: number): Picos {
  const msgId = w.rng.hex32();
  amqpS.publish(start, 'nova', `compute.${w.destinationName}`, osloRequest(w.rng, ctx, 'post_live_migration_at_destination', {
    instance: { uuid: guest.uuid, name: guest.name, host: w.destinationName }, block_migration: false,
  }, { msgId, replyQueue: amqpS.replyQueue }), `${id}:post-call`);
  const end = at(start, dur);
  amqpS.deliver(end, true, amqpS.replyQueue, osloReply(w.rng, msgId, null), `${id}:post-reply`);
  return end;
}

/** After a failed migration nova rolls back at the destination (a cast). */
export function novaRollback(w: World, guest: GuestSpec, ctx: OsloContext, amqpS: AmqpSession, t: Picos): void {
  amqpS.publish(t, 'nova', `compute.${w.destinationName}`, osloRequest(w.rng, ctx, 'rollback_live_migration_at_destination', {
    instance: { uuid: guest.uuid, name: guest.name, host: w.sourceName }, destroy_disks: false, migrate_data: {},
  }, null));
}
