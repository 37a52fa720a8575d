import type { Picos } from '../../core/time.js';
import { type GeneratedPacket, quantizeUp } from '../source.js';
import {
  ETH_HEADER, ETHERTYPE_IPV4, foldChecksum, type Host, IPPROTO_ICMP, IPV4_HEADER, onesSum, writeEthernet, writeIpv4, writeU16,
} from './ethernet-ip.js';

export interface PingPlan {
  client: Host;
  vm: Host;
  /** ICMP identifier of the ping process. */
  ident: number;
  start: Picos;
  end: Picos;
  interval: Picos;
  /** Reply delay while the VM runs on the source / after it resumed at the destination. */
  replyDelayBefore: Picos;
  replyDelayAfter: Picos;
  /** The VM is paused in [pauseAt, resumeAt): requests arriving then get no reply. */
  pauseAt: Picos | undefined;
  resumeAt: Picos | undefined;
  resolution: Picos;
  /** Marker name for the first reply after the resume (the end of network re-convergence). */
  resumeMarker?: string;
}

/** What the ping client saw, from the packets as written (for the truth's downtime). */
export interface PingStats {
  requests: number;
  replies: number;
  lastReplyBeforePause: Picos | undefined;
  firstReplyAfterResume: Picos | undefined;
  /** Requests sent between those two replies that never got an answer. */
  lost: number;
}

const ICMP_PAYLOAD = 56;

function echoFrame(src: Host, dst: Host, type: number, ident: number, seq: number, ipId: number): Uint8Array {
  const icmpLen = 8 + ICMP_PAYLOAD;
  const frame = new Uint8Array(ETH_HEADER + IPV4_HEADER + icmpLen);
  writeEthernet(frame, dst.macBytes, src.macBytes, ETHERTYPE_IPV4);
  writeIpv4(frame, src, dst, IPPROTO_ICMP, IPV4_HEADER + icmpLen, ipId);
  const o = ETH_HEADER + IPV4_HEADER;
  frame[o] = type;
  frame[o + 1] = 0;
  writeU16(frame, o + 4, ident);
  writeU16(frame, o + 6, seq & 0xffff);
  // iputils-style payload: 8 bytes of send time then 0x10, 0x11, …
  writeU16(frame, o + 8, (seq >> 16) & 0xffff);
  for (let i = 8; i < ICMP_PAYLOAD; i++) frame[o + 8 + i] = (i + 8) & 0xff;
  const c = foldChecksum(onesSum(frame, o, o + icmpLen));
  frame[o + 2] = c >> 8;
  frame[o + 3] = c & 0xff;
  return frame;
}

/**
 * An external client pinging the VM every `interval` (the study's downtime method):
 * requests throughout, replies except while the VM is paused for the switch-over.
 */
export function* pingFlow(plan: PingPlan, stats: PingStats): Generator<GeneratedPacket> {
  const R = plan.resolution;
  let pendingReply: { ts: Picos; seq: number } | undefined;
  let seq = 1;
  let ipIdClient = 0x1000;
  let ipIdVm = 0x2000;
  let lostSinceReply = 0;
  for (let t = plan.start; t < plan.end || pendingReply; t += plan.interval) {
    const reqTs = quantizeUp(t, R);
    if (pendingReply && pendingReply.ts <= reqTs) {
      yield emitReply(pendingReply.ts, pendingReply.seq);
      pendingReply = undefined;
    }
    if (t >= plan.end) {
      if (pendingReply) {
        yield emitReply(pendingReply.ts, pendingReply.seq);
        pendingReply = undefined;
      }
      break;
    }
    stats.requests++;
    yield { ts: reqTs, frame: echoFrame(plan.client, plan.vm, 8, plan.ident, seq, ipIdClient++ & 0xffff) };
    const resumed = plan.resumeAt !== undefined && reqTs >= plan.resumeAt;
    const delay = resumed ? plan.replyDelayAfter : plan.replyDelayBefore;
    const arrives = reqTs + delay;
    const paused = plan.pauseAt !== undefined && arrives >= plan.pauseAt && !resumed;
    if (paused) lostSinceReply++;
    else pendingReply = { ts: quantizeUp(arrives, R), seq };
    seq++;
  }

  function emitReply(ts: Picos, s: number): GeneratedPacket {
    stats.replies++;
    if (plan.pauseAt !== undefined && ts < plan.pauseAt) stats.lastReplyBeforePause = ts;
    else if (plan.resumeAt !== undefined && ts >= plan.resumeAt && stats.firstReplyAfterResume === undefined) {
      stats.firstReplyAfterResume = ts;
      stats.lost = lostSinceReply;
      const frame = echoFrame(plan.vm, plan.client, 0, plan.ident, s, ipIdVm++ & 0xffff);
      return plan.resumeMarker !== undefined ? { ts, frame, markers: [plan.resumeMarker] } : { ts, frame };
    }
    return { ts, frame: echoFrame(plan.vm, plan.client, 0, plan.ident, s, ipIdVm++ & 0xffff) };
  }
}
