/**
 * Liveness on whole generated traces: packets are fed to the Dissector → PhaseEngine one
 * at a time, and every phase event must leave while its marker packet is being fed —
 * the packet carrying the marker message's first byte, or, for a message spread over
 * several segments, the segment that completes it — never later (no buffering until the
 * end of the input). The marker times come from the generator's ground truth.
 */
import { afterAll, describe, expect, it } from 'vitest';
import type { Picos } from '../../src/core/time.js';
import { Dissector } from '../../src/dissect/dissector.js';
import { openCapture } from '../../src/ingest/file-source.js';
import { PhaseEngine, type HostRoles } from '../../src/phases/engine.js';
import type { PhaseEvent } from '../../src/phases/events.js';
import type { ProtocolMessage } from '../../src/protocols/types.js';
import { parseHostsOption } from '../../src/phases/roles.js';
import { generateFile, tempDir } from './generated.js';

interface Fed {
  events: { ev: PhaseEvent; packetTs: Picos; packetIndex: number }[];
  /** Wire time span [ts, tsEnd] of each message, by the index of the packet completing it. */
  messages: ProtocolMessage[];
  packets: number;
}

async function feedPacketByPacket(file: string, hosts: HostRoles): Promise<Fed> {
  const fed: Fed = { events: [], messages: [], packets: 0 };
  let current: { ts: Picos; index: number } = { ts: -1n, index: -1 };
  const engine = new PhaseEngine({ hosts, labels: {}, onEvent: (ev) => fed.events.push({ ev, packetTs: current.ts, packetIndex: current.index }) });
  const dissector = new Dissector((m) => { fed.messages.push(m); engine.push(m); });
  const capture = await openCapture(file);
  try {
    for await (const batch of capture.batches()) {
      for (const pkt of batch) {
        current = { ts: pkt.ts, index: fed.packets++ };
        dissector.packet(pkt);
      }
    }
  } finally {
    await capture.close();
  }
  current = { ts: -1n, index: -1 };
  dissector.finish();
  engine.end();
  return fed;
}

const { dir, cleanup } = tempDir();
afterAll(cleanup);

/**
 * The message at which a migration is recognised as one: before it, a Keystone token
 * request or a libvirt connection is not yet known to belong to a migration, so the
 * events of earlier markers leave with it. With --hosts: the os-migrateLive request
 * (OpenStack) or the first SYN (KVM). Without, migration-started also needs the source
 * and destination hosts: OpenStack learns them from the libvirt connection's SYN, KVM
 * from the prepare3 call on a connection between hosts not seen migrating before.
 */
type Recognition = (messages: ProtocolMessage[]) => ProtocolMessage | undefined;
const osMigrateLive: Recognition = (ms) => ms.find((m) => m.protocol === 'http' && m.kind === 'request' && m.jsonKeys?.includes('os-migrateLive') === true);
const prepare3Call: Recognition = (ms) => ms.find((m) => m.protocol === 'libvirt' && m.procedure === 303 && m.kind === 'call');
const libvirtSyn: Recognition = (ms) => ms.find((m) => m.protocol === 'tcp' && m.kind === 'syn' && m.dst.port === 16509);
const atFirstSyn: Recognition = () => undefined;
const preLiveCall: Recognition = (ms) => ms.find((m) => m.protocol === 'amqp' && m.oslo?.method === 'pre_live_migration');

describe('liveness: phase events leave with their marker packet', () => {
  const cases: [string, 'kvm' | 'openstack', HostRoles, Recognition][] = [
    ['openstack with --hosts', 'openstack', { source: '10.10.0.11', destination: '10.10.0.12', controller: '10.10.0.10' }, osMigrateLive],
    ['openstack without --hosts', 'openstack', {}, libvirtSyn],
    ['kvm with --hosts', 'kvm', { source: '10.10.0.11', destination: '10.10.0.12' }, atFirstSyn],
    ['kvm without --hosts', 'kvm', {}, prepare3Call],
    // A set of hypervisors (either may be the source: a back-and-forth series is live
    // both ways): KVM at the first SYN between two of them, OpenStack once the source
    // compute calls pre_live_migration (the destination is then the other hypervisor).
    ['kvm with --hosts B,A', 'kvm', parseHostsOption('10.10.0.12,10.10.0.11'), atFirstSyn],
    ['openstack with --hosts B,A,controller=C', 'openstack', parseHostsOption('10.10.0.12,10.10.0.11,controller=10.10.0.10'), preLiveCall],
  ];
  for (const [name, scenario, hosts, recognition] of cases) {
    it(name, async () => {
      const { file, truth } = generateFile(dir, `live-${scenario}-${name.replace(/\W+/g, '-')}.pcap`, { scenario, payloadScale: 0.002, seed: 21 });
      const t = truth.migrations[0]!;
      if (hosts.source !== undefined) expect([t.source, t.destination]).toEqual([hosts.source, hosts.destination]);
      const fed = await feedPacketByPacket(file, hosts);
      const recognised = recognition(fed.messages);
      if (recognition !== atFirstSyn) expect(recognised, 'recognition message decoded').toBeDefined();
      const phaseEvents = fed.events.filter((e) => e.ev.type === 'phase-started' || e.ev.type === 'phase-ended');
      expect(phaseEvents.length).toBe(2 * Object.keys(t.phases).length);
      let waited = 0;
      for (const { ev, packetTs } of phaseEvents) {
        const tag = `${ev.type} ${'phase' in ev ? ev.phase : ''}`;
        expect(packetTs, `${tag}: emitted at the end of input`).toBeGreaterThanOrEqual(0n);
        // The event's time is a truth marker …
        expect(Object.values(t.markers), `${tag}: ts is a marker packet's time`).toContain(ev.ts);
        if (recognised && ev.ts < recognised.ts) {
          // … known only once the migration is: it leaves with the recognising message.
          expect(packetTs >= recognised.ts && packetTs <= recognised.tsEnd, `${tag}: left at ${packetTs}, not with the recognition`).toBe(true);
          waited++;
        } else if (packetTs !== ev.ts) {
          // … and it left while the packet with that time, or the rest of the same
          // message, was being fed: the message starting at ev.ts ends at that packet.
          const spread = fed.messages.some((m) => m.ts === ev.ts && m.tsEnd === packetTs);
          expect(spread, `${tag}: emitted at ${packetTs}, ${packetTs - ev.ts} ps after its marker`).toBe(true);
        }
      }
      if (recognition === atFirstSyn) expect(waited).toBe(0);
      else expect(waited, 'some events precede the recognition').toBeGreaterThan(0);
      const sw = fed.events.find((e) => e.ev.type === 'switchover');
      expect(sw?.packetTs, 'switchover at its packet').toBe(sw?.ev.ts);
      expect(fed.events.find((e) => e.ev.type === 'migration-ended')!.packetTs, 'migration-ended before end of input').toBeGreaterThanOrEqual(0n);
    });
  }
});
