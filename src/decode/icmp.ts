import type { AnomalyDef } from '../core/anomaly.js';
import { PacketAnomaly } from './anomaly-codes.js';
import type { Picos } from '../core/time.js';
import type { Endpoint } from './types.js';
import type { MessageBase } from '../core/message.js';

export interface IcmpEcho extends MessageBase {
  protocol: 'icmp';
  kind: 'echo-request' | 'echo-reply';
  id: number;
  seq: number;
}

/** ICMP / ICMPv6 message types of an echo exchange (RFC 792, RFC 4443). */
export const IcmpType = { EchoReply: 0, EchoRequest: 8, V6EchoRequest: 128, V6EchoReply: 129 } as const;

/**
 * Decode an ICMP (v6 = false) or ICMPv6 echo request/reply from `b[off … end)`.
 * Returns the message, null when it is another ICMP type (not our business), or
 * PacketAnomaly.TRUNCATED_ICMP_ECHO. The checksum is not verified (offloaded on the sending host).
 * Allocation: the returned message only.
 */
export function decodeIcmpEcho(
  b: Uint8Array, off: number, end: number, v6: boolean, ts: Picos, src: Endpoint, dst: Endpoint,
): IcmpEcho | null | AnomalyDef {
  if (off + 1 > end) return PacketAnomaly.TRUNCATED_ICMP_ECHO;
  const type = b[off]!;
  let kind: IcmpEcho['kind'];
  if (type === (v6 ? IcmpType.V6EchoRequest : IcmpType.EchoRequest)) kind = 'echo-request';
  else if (type === (v6 ? IcmpType.V6EchoReply : IcmpType.EchoReply)) kind = 'echo-reply';
  else return null;
  if (off + 8 > end) return PacketAnomaly.TRUNCATED_ICMP_ECHO;
  return {
    protocol: 'icmp', kind, ts, tsEnd: ts, flowId: -1, src, dst,
    id: (b[off + 4]! << 8) | b[off + 5]!,
    seq: (b[off + 6]! << 8) | b[off + 7]!,
  };
}
