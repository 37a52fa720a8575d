import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startRingPipeline } from '../../src/pipeline/ring/run.js';
import { captureLive, timeless, unpaced } from './capture.js';
import { requireCompiledWorker } from '../native/compiled-worker.js';
import { isCI, normalise, offlineMessages, phaseEvents, requirement } from './helpers.js';
import { createVethPair, type VethPair } from './netns.js';
import { writeGeneratedTrace } from './trace.js';

/**
 * A migration on a VLAN-tagged link, captured on the parent device. The receiving
 * stack takes the 802.1Q tag out of the frame before any packet socket sees it: an
 * AF_PACKET ring gets the untagged frame (the tag in tp_vlan_tci), libpcap puts the tag
 * back, and the replayed file (what tcpdump would write) holds the tagged frames. The tag
 * carries nothing the analysis uses, so all three must give the same messages and phase
 * events.
 *
 * The frames are tagged in the replayed file rather than by a VLAN sub-interface, which
 * kernels built without CONFIG_VLAN_8021Q (as this project's CI VM) cannot create: on
 * the wire it is the same tagged frame, and the receiving side is the same code.
 */
const missing = requirement();
if (missing && !isCI) console.log(`skipping VLAN veth tests: ${missing}`);

const VLAN_ID = 100;
/** The classic pcap `src` with an 802.1Q tag (VLAN_ID, priority 0) inserted in every Ethernet frame. */
function tagFrames(src: string, dst: string): void {
  const b = readFileSync(src);
  const parts: Buffer[] = [b.subarray(0, 24)];
  for (let off = 24, n = 0; off + 16 <= b.length && n < 1_000_000; n++) {
    const caplen = b.readUInt32LE(off + 8);
    const hdr = Buffer.from(b.subarray(off, off + 16));
    hdr.writeUInt32LE(caplen + 4, 8);
    hdr.writeUInt32LE(b.readUInt32LE(off + 12) + 4, 12);
    const tag = Buffer.from([0x81, 0x00, VLAN_ID >> 8, VLAN_ID & 0xff]);
    parts.push(hdr, b.subarray(off + 16, off + 28), tag, b.subarray(off + 28, off + 16 + caplen));
    off += 16 + caplen;
  }
  writeFileSync(dst, Buffer.concat(parts));
}

describe.skipIf(missing !== undefined && !isCI)('a VLAN-tagged migration link, captured live on the parent device', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'migscope-vlan-'));
  let pair: VethPair | undefined;
  beforeAll(() => {
    if (missing) throw new Error(missing);
    requireCompiledWorker();
    pair = createVethPair(`v${process.pid % 10000}`);
  }, 120_000);
  afterAll(() => {
    pair?.remove();
    rmSync(dir, { recursive: true, force: true });
  });

  for (const capture of ['af-packet', 'pcap'] as const) {
    it(`${capture}: the same messages and phase events as the file of the tagged frames`, async () => {
      const plain = path.join(dir, `openstack-${capture}.pcap`);
      const { packets } = writeGeneratedTrace(plain, 'pcap');
      const file = path.join(dir, `openstack-${capture}-vlan.pcap`);
      tagFrames(plain, file);
      const { messages, res, copied } = await captureLive(pair!, file, packets, { capture });
      expect(res.stats.capturePath).toBe(capture === 'af-packet' ? 'af-packet' : 'libpcap');
      expect(res.stats.packets).toBe(packets);
      expect(res.stats.kernelDrops).toBe(0);
      if (capture === 'af-packet') {
        expect(copied).toBe(0);
        // Every frame reached the ring untagged, its tag in tp_vlan_tci.
        expect(res.workers.reduce((a, w) => a + (w.vlanStripped ?? 0), 0)).toBe(packets);
      }
      const reference = await offlineMessages(file);
      expect(reference.length).toBeGreaterThan(100);
      expect(timeless(normalise(messages))).toEqual(timeless(normalise(reference)));
      expect(timeless(unpaced(phaseEvents(messages)))).toEqual(timeless(unpaced(phaseEvents(reference))));
    }, 90_000);
  }

  it('a --filter naming vlan takes the libpcap path, which matches the tag the kernel took out', async () => {
    const plain = path.join(dir, 'openstack-filter.pcap');
    writeGeneratedTrace(plain, 'pcap');
    const file = path.join(dir, 'openstack-filter-vlan.pcap');
    tagFrames(plain, file);
    const tcp = await captureLive(pair!, file, 1, { source: { kind: 'iface', name: pair!.rxIf, netns: pair!.rxNs, filter: 'tcp' } });
    expect(tcp.res.stats.capturePath).toBe('af-packet');
    expect(tcp.res.stats.packets).toBeGreaterThan(100); // the TCP frames of the trace
    const vlan = await captureLive(pair!, file, tcp.res.stats.packets,
      { capture: 'auto', source: { kind: 'iface', name: pair!.rxIf, netns: pair!.rxNs, filter: `vlan ${VLAN_ID} and tcp` } });
    expect(vlan.res.stats.capturePath).toBe('libpcap');
    expect(vlan.res.stats.packets).toBe(tcp.res.stats.packets);
    expect(() => startRingPipeline({
      source: { kind: 'iface', name: pair!.rxIf, netns: pair!.rxNs, filter: 'vlan' }, workers: 1, capture: 'af-packet', onMessage: () => undefined,
    })).toThrow(/tests VLAN tags.*--capture pcap/);
  }, 90_000);
});
