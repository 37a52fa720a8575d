import type { Picos } from '../../core/time.js';
import type { Outcome } from '../types.js';
import { type PacketSource, sourceOf } from '../source.js';
import * as rpc from '../wire/libvirt-rpc.js';
import { qemuStream, type QemuStreamStats } from '../wire/qemu-stream.js';
import { tcpConnection } from '../wire/tcp-connection.js';
import { domainXml, type GuestSpec, migrationCookie } from './domain.js';
import { streamModel, type StreamModel } from './stream-plan.js';
import type { DrawnTiming } from './timing.js';
import { at, MessageLists, type World } from './world.js';

export interface LibvirtMigrationPlan {
  sources: PacketSource[];
  streamStats: QemuStreamStats;
  model: StreamModel | undefined;
  /** Planned: the VM pauses / resumes at the destination (undefined: it never pauses). */
  pauseAt: Picos | undefined;
  resumeAt: Picos | undefined;
  /** Planned end of the libvirt connection (its FIN). */
  end: Picos;
  migrateUri: string | undefined;
  libvirtConn: string;
  streamConn: string | undefined;
  /** Stream payload bytes source→destination, counted as segments are built. */
  streamPayload: { bytes: number };
}

const LIBVIRT_PORT = 16509;

/**
 * A `virsh migrate --live --p2p --undefinesource --persistent` as the source host's
 * link sees it: the source libvirtd's RPC connection to the destination libvirtd
 * (AUTH_LIST, feature probes, CONNECT_OPEN, REGISTER_CLOSE_CALLBACK, PREPARE3_PARAMS,
 * FINISH3_PARAMS, UNREGISTER_CLOSE_CALLBACK, CONNECT_CLOSE, keep-alives every 5 s)
 * and the QEMU stream connection to the migrate URI.
 */
export function libvirtMigration(
  w: World, id: string, guest: GuestSpec, d: DrawnTiming, start: Picos, outcome: Outcome, streamPort: number,
  linkGbps: number, load: number, payloadScale: number, dirtyRatio?: number,
): LibvirtMigrationPlan {
  const m = (name: string): string => `${id}:${name}`;
  const lv = new MessageLists();
  let serial = 1;
  const call = (t: Picos, proc: number, body: Uint8Array | undefined, replyAt: Picos, replyBody?: Uint8Array, marks: [string?, string?] = [], status = 0): void => {
    lv.add('client', t, rpc.remoteCall(proc, serial, body), marks[0]);
    lv.add('server', replyAt, rpc.remoteReply(proc, serial, replyBody, status), marks[1]);
    serial++;
  };
  const F = rpc.DrvFeature;
  // Remote connect: handshake, then the calls up to CONNECT_OPEN's reply.
  const rc = d.remoteConnect;
  call(at(start, rc * 0.12), rpc.RemoteProc.AuthList, undefined, at(start, rc * 0.2), rpc.authListReply());
  call(at(start, rc * 0.3), rpc.RemoteProc.ConnectSupportsFeature, rpc.supportsFeatureArgs(F.RemoteCloseCallback), at(start, rc * 0.38), rpc.supportsFeatureReply(true));
  call(at(start, rc * 0.46), rpc.RemoteProc.ConnectSupportsFeature, rpc.supportsFeatureArgs(F.RemoteEventCallback), at(start, rc * 0.54), rpc.supportsFeatureReply(true));
  call(at(start, rc * 0.62), rpc.RemoteProc.ConnectOpen, rpc.connectOpenArgs('qemu:///system'), at(start, rc), undefined, [undefined, m('open-reply')]);
  const rcEnd = at(start, rc);
  // Between CONNECT_OPEN and PREPARE: probes and the close callback.
  const g1 = d.gapConnectPrepare;
  const probes: [number | 'register', boolean][] = [
    [F.MigrationV3, true], [F.MigrationP2P, true], ['register', true], [F.MigrationParams, true],
    [F.MigrationOffline, true], [F.XmlMigratable, true],
  ];
  probes.forEach(([p], i) => {
    const t = at(rcEnd, (g1 * (i + 0.3)) / (probes.length + 1));
    const r = at(rcEnd, (g1 * (i + 0.8)) / (probes.length + 1));
    if (p === 'register') call(t, rpc.RemoteProc.ConnectRegisterCloseCallback, undefined, r);
    else call(t, rpc.RemoteProc.ConnectSupportsFeature, rpc.supportsFeatureArgs(p), r, rpc.supportsFeatureReply(true));
  });
  const prepCall = at(rcEnd, g1);
  const prepReply = at(prepCall, d.preparation);
  const xml = domainXml(guest);
  const srcHostUuid = w.rng.uuid();
  const dstHostUuid = w.rng.uuid();
  const prepArgs = rpc.prepare3ParamsArgs(
    [
      { field: 'destination_name', type: 'string', value: guest.name },
      { field: 'destination_xml', type: 'string', value: xml },
      { field: 'bandwidth', type: 'ullong', value: 0n },
    ],
    rpc.cookieBytes(migrationCookie(guest, w.sourceName, srcHostUuid, true)),
    rpc.MIGRATE_FLAGS,
  );
  const migrateUri = `tcp:${w.destination.ip}:${streamPort}`;
  const failedPrepare = outcome === 'failed-prepare';
  const prepReplyBody = failedPrepare
    ? rpc.remoteError(1, 10, `internal error: unable to execute QEMU command 'migrate-incoming': Failed to bind socket: Address already in use`)
    : rpc.prepare3ParamsReply(rpc.cookieBytes(migrationCookie(guest, w.destinationName, dstHostUuid, false)), migrateUri);
  call(prepCall, rpc.RemoteProc.DomainMigratePrepare3Params, prepArgs, prepReply, prepReplyBody,
    [m('prepare-call'), m('prepare-reply')], failedPrepare ? rpc.MessageStatus.Error : rpc.MessageStatus.Ok);

  const sources: PacketSource[] = [];
  const streamStats: QemuStreamStats = { passBytes: [], precopyBytes: 0, stopCopyBytes: 0, pauseAt: undefined, completed: false };
  const streamPayload = { bytes: 0 };
  let model: StreamModel | undefined;
  let pauseAt: Picos | undefined;
  let resumeAt: Picos | undefined;
  let cleanupStart = prepReply;
  let streamConn: string | undefined;

  if (!failedPrepare) {
    const tSyn = at(prepReply, d.gapPrepareTransfer);
    const aborted = outcome === 'failed-transfer' || outcome === 'cancelled';
    const abortAfter = outcome === 'failed-transfer' ? 0.4 : outcome === 'cancelled' ? 0.6 : undefined;
    const finAtPlanned = at(tSyn, d.transfer);
    model = streamModel({
      ramBytes: guest.ramBytes, vcpus: guest.vcpus, load, linkGbps, payloadScale, synAt: tSyn, finAt: finAtPlanned,
      downtime: d.downtime, rng: w.rng, ...(abortAfter !== undefined ? { abortAfter } : {}),
      ...(dirtyRatio !== undefined ? { dirtyRatio } : {}),
    });
    // An aborted stream ends roughly where its records stop; the close waits for the data anyway.
    const pre = model.plan.precopy;
    const closeAt = aborted
      ? pre[0]!.start + ((pre[pre.length - 1]!.end - pre[0]!.start) * BigInt(Math.round(abortAfter! * 1000))) / 1000n
      : finAtPlanned;
    if (model.plan.final.count > 0 && !aborted) {
      // Mark the END(ram) section: the switch-over as the stream shows it.
      pauseAt = model.pauseAt;
    }
    const srcPort = w.nextPort();
    streamConn = `${w.source.ip}:${srcPort}-${w.destination.ip}:${streamPort}`;
    const stream = qemuStream(model.plan, streamStats);
    const marked = (function* () {
      for (const msg of stream) {
        if (pauseAt !== undefined && msg.t === model!.plan.final.start && msg.bytes[0] === 0x03) yield { ...msg, marker: m('stopcopy') };
        else if (msg.t === model!.plan.stopCopyEnd && !aborted) yield { ...msg, marker: m('stream-eof') };
        else yield msg;
      }
    })();
    sources.push(sourceOf(tcpConnection({
      client: w.source, server: w.destination, clientPort: srcPort, serverPort: streamPort, synAt: tSyn,
      synMarker: m('transfer-syn'), clientMessages: marked, serverMessages: [][Symbol.iterator](),
      close: { at: closeAt, by: outcome === 'failed-transfer' ? 'server' : 'client', reset: outcome === 'failed-transfer', marker: m('transfer-fin') },
      clientDelay: w.localDelay, serverDelay: w.peerDelay, linkBps: w.linkBps, resolution: w.resolution, rng: w.rng,
      onPayload: (side, n) => { if (side === 'client') streamPayload.bytes += n; },
    })));
    const transferEnd = aborted ? closeAt : finAtPlanned;
    const finishCall = at(transferEnd, aborted ? 0.004 : d.gapTransferFinish);
    const rem = Math.max(0.0005, d.downtime - (model.stopCopySeconds + 0.001) - d.gapTransferFinish);
    const finishDur = aborted ? Math.min(d.finish, 0.03) : Math.max(d.finish, rem + 0.003);
    const finishReply = at(finishCall, finishDur);
    if (!aborted) resumeAt = at(finishCall, rem);
    const finArgs = rpc.finish3ParamsArgs(
      [{ field: 'destination_name', type: 'string', value: guest.name }, { field: 'migrate_uri', type: 'string', value: migrateUri }],
      rpc.cookieBytes(migrationCookie(guest, w.sourceName, srcHostUuid, false)), rpc.MIGRATE_FLAGS, aborted,
    );
    const finReplyBody = aborted
      ? rpc.remoteError(9, 10, outcome === 'cancelled' ? 'operation aborted: migration out job: canceled by client' : 'operation failed: migration job: unexpectedly failed')
      : rpc.finish3ParamsReply({ name: guest.name, uuid: rpc.uuidBytes(guest.uuid), id: 7 },
        rpc.cookieBytes(migrationCookie(guest, w.destinationName, dstHostUuid, false)));
    call(finishCall, rpc.RemoteProc.DomainMigrateFinish3Params, finArgs, finishReply, finReplyBody,
      [m('finish-call'), m('finish-reply')], aborted ? rpc.MessageStatus.Error : rpc.MessageStatus.Ok);
    cleanupStart = finishReply;
  }
  const cleanupDur = failedPrepare ? Math.min(d.cleanup, 0.05) : d.cleanup;
  call(at(cleanupStart, cleanupDur * 0.4), rpc.RemoteProc.ConnectUnregisterCloseCallback, undefined, at(cleanupStart, cleanupDur * 0.45));
  call(at(cleanupStart, cleanupDur * 0.7), rpc.RemoteProc.ConnectClose, undefined, at(cleanupStart, cleanupDur * 0.75));
  const end = at(cleanupStart, cleanupDur);
  // Keep-alive: the source pings after 5 s without traffic; the destination answers.
  for (let k = 1; ; k++) {
    const t = at(rcEnd, 5 * k);
    if (t >= at(end, -0.01)) break;
    if (lv.client.some((x) => x.t > at(t, -0.002) && x.t < at(t, 0.002))) continue;
    lv.add('client', t, rpc.keepalive(rpc.KeepaliveProc.Ping));
    lv.add('server', at(t, 0.0004), rpc.keepalive(rpc.KeepaliveProc.Pong));
  }
  const lvPort = w.nextPort();
  sources.push(sourceOf(tcpConnection({
    client: w.source, server: w.destination, clientPort: lvPort, serverPort: LIBVIRT_PORT, synAt: start,
    synMarker: m('connect-syn'), clientMessages: lv.sorted('client'), serverMessages: lv.sorted('server'),
    close: { at: end, by: 'client', marker: m('cleanup-fin') },
    clientDelay: w.localDelay, serverDelay: w.peerDelay, linkBps: w.linkBps, resolution: w.resolution, rng: w.rng,
  })));
  return {
    sources, streamStats, model, pauseAt, resumeAt, end, migrateUri: failedPrepare ? undefined : migrateUri,
    libvirtConn: `${w.source.ip}:${lvPort}-${w.destination.ip}:${LIBVIRT_PORT}`, streamConn, streamPayload,
  };
}
