/**
 * multifd in the phase engine: a QMP-driven migration whose pages travel on two extra
 * channels. Hand-built messages with known figures: the channels are attributed (also
 * when their first packets precede the main stream's header), their bytes summed, the
 * passes counted in QEMU's packet order (including 7.2's renumbered sync-joined data
 * packets), and the stop-and-copy pages told apart by the last RAM chunk's sync round.
 */
import { describe, expect, it } from 'vitest';
import type { Endpoint } from '../../src/decode/types.js';
import type { Progress } from '../../src/phases/events.js';
import { dur, Trace, us } from './messages.js';
import { ended, runEngine } from './run.js';

const SRC = '192.168.5.1';
const DST: Endpoint = { ip: '192.168.5.2', port: 4444 };
const HDR = 1344;
const PAGE = 4096;

interface Pkt { t: number; ch: number; num: number; pages?: number; off?: number; sync?: boolean }

function migration(opts: { channelsFirst?: boolean; otherPort?: boolean } = {}): Trace {
  const tr = new Trace();
  const main = tr.flow();
  const mc: Endpoint = { ip: SRC, port: 50000 };
  tr.tcp(0, main, 'syn', mc, DST);
  const chans = [0, 1].map((id) => ({ id, flow: tr.flow(), ep: { ip: SRC, port: 50001 + id } }));
  const dst = opts.otherPort ? { ...DST, port: 5555 } : DST;
  const bytes = [64, 64];
  for (const c of chans) tr.tcp(100 + c.id, c.flow, 'syn', c.ep, dst);
  const packet = (p: Pkt): void => {
    const c = chans[p.ch]!;
    const n = HDR + (p.pages ?? 0) * PAGE;
    bytes[p.ch]! += n;
    tr.qemu(p.t, c.flow, c.ep, dst, {
      kind: 'multifd-packet', channel: c.id, packetNum: p.num, sync: p.sync === true, compression: 0, pages: p.pages ?? 0,
      block: p.pages ? 'pc.ram' : '', firstOffset: p.off ?? 0, bytes: n, streamBytes: bytes[p.ch],
    });
  };
  for (const c of chans) tr.qemu(150, c.flow, c.ep, dst, { kind: 'multifd-channel', channel: c.id, streamBytes: 64 });
  // Setup sync round (0, 1); the header may come after it (QEMU buffers the main stream).
  packet({ t: 200, ch: 0, num: 0, sync: true });
  packet({ t: 201, ch: 1, num: 1, sync: true });
  tr.qemu(opts.channelsFirst ? 300 : 120, main, mc, DST, { kind: 'header', version: 3, streamBytes: 8 });
  tr.qemu(400, main, mc, DST, { kind: 'pass-started', iteration: 1, streamBytes: 100 });
  // Pass 1: offsets rise; a data packet numbered 2 joined by the next sync takes sync
  // number 5 on channel 1 (channel 0 got 4): queued after packet 3 (channel 0).
  packet({ t: 500, ch: 0, num: 3, pages: 10, off: 0x1000 });
  packet({ t: 510, ch: 1, num: 5, pages: 10, off: 0x20000, sync: true });
  packet({ t: 511, ch: 1, num: 5 }); // QEMU 7.2's bare header after it
  packet({ t: 512, ch: 0, num: 4, sync: true });
  tr.qemu(600, main, mc, DST, { kind: 'ram-chunk', iteration: 1, pages: 50, passBytes: 1000, streamBytes: 1100 });
  // Pass 2 wraps to a lower offset; pass 3 again.
  packet({ t: 700, ch: 1, num: 6, pages: 5, off: 0x3000 });
  packet({ t: 701, ch: 0, num: 7, pages: 5, off: 0x9000 });
  packet({ t: 710, ch: 0, num: 8, sync: true });
  packet({ t: 711, ch: 1, num: 9, sync: true });
  tr.qemu(800, main, mc, DST, { kind: 'ram-chunk', iteration: 1, pages: 0, passBytes: 1010, streamBytes: 1110 });
  packet({ t: 900, ch: 0, num: 10, pages: 4, off: 0x2000 });
  packet({ t: 910, ch: 0, num: 12, sync: true });
  packet({ t: 911, ch: 1, num: 13, sync: true });
  tr.qemu(1000, main, mc, DST, { kind: 'ram-chunk', iteration: 1, pages: 0, passBytes: 1020, streamBytes: 1120 });
  // Stop-and-copy: pages after the last chunk's sync round, before SECTION_END(ram) arrives.
  packet({ t: 1100, ch: 1, num: 14, pages: 2, off: 0x1000 });
  packet({ t: 1110, ch: 0, num: 15, sync: true });
  packet({ t: 1111, ch: 1, num: 16, sync: true });
  tr.qemu(1200, main, mc, DST, { kind: 'switchover', iterations: 1, precopyBytes: 1120, streamBytes: 1125 });
  tr.qemu(1300, main, mc, DST, {
    kind: 'eof', iterations: 2, precopyBytes: 1120, stopCopyBytes: 5000, passBytes: [1112, 18], streamBytes: 6120, ramStopCopyBytes: 18,
  });
  for (const c of chans) tr.tcp(1400 + c.id, c.flow, 'fin', c.ep, dst);
  tr.tcp(1500, main, 'fin', mc, DST);
  return tr;
}

describe('phase engine: multifd channels', () => {
  for (const channelsFirst of [false, true]) {
    it(`channels attributed and summed, passes across channels${channelsFirst ? ' (channels before the main header)' : ''}`, () => {
      const { events } = runEngine(migration({ channelsFirst }).sorted());
      const end = ended(events, 'm1')!;
      expect(end.outcome).toBe('completed');
      // 16 packets (8 a channel, the bare header included), 36 pages; 64-byte openings.
      const multifd = 16 * HDR + 36 * PAGE;
      const perChannel = [64 + 8 * HDR + 19 * PAGE, 64 + 8 * HDR + 17 * PAGE];
      expect(end.stream).toEqual({
        bytes: 6120 + perChannel[0]! + perChannel[1]!,
        // 3 pre-copy passes on the channels (the renumbered packet put back in order) + stop-and-copy.
        iterations: 4,
        precopyBytes: 1120 + perChannel[0]! + perChannel[1]! - (3 * HDR + 2 * PAGE),
        stopCopyBytes: 5000 + 3 * HDR + 2 * PAGE,
        ramStopCopyBytes: 18,
        multifdBytes: multifd,
        channels: 2,
        channelBytes: perChannel,
        // Switch-over → EOF on the main stream; the VM stopped after its last pre-copy chunk.
        pause: { start: us(1200), end: us(1300), min: dur(100), max: dur(300) },
      });
      const sw = events.find((e) => e.type === 'switchover')!;
      expect(sw).toMatchObject({ iterations: 3 });
      const progress = events.filter((e): e is Progress => e.type === 'progress');
      // The stop-and-copy pages show as a 4th pass in progress until SECTION_END(ram)
      // arrives (the main stream reaches the wire after them); the summary corrects it.
      expect([...new Set(progress.map((p) => p.iteration))]).toEqual([1, 2, 3, 4]);
    });
  }

  it("a channel to another port is not this migration's", () => {
    const { events } = runEngine(migration({ otherPort: true }).sorted());
    const s = ended(events, 'm1')!.stream!;
    expect(s.channels).toBeUndefined();
    expect(s.bytes).toBe(6120);
  });
});
