import { analyzeSources } from '../../../src/pipeline/analyze.js';
import type { PhaseEvent } from '../../../src/phases/events.js';
import type { ProtocolMessage, QemuStreamEnd } from '../../../src/protocols/types.js';
import { tsharkFields } from './tshark.js';

/** The capture through migscope's offline pipeline (as `migscope analyze`): phase events,
 *  the decoder's QEMU_VM_EOF from the same pass, and (on request) every protocol message. */
export async function analyse(pcap: string, keep?: (m: ProtocolMessage) => boolean): Promise<{ events: PhaseEvent[]; eof?: QemuStreamEnd; messages: ProtocolMessage[] }> {
  const events: PhaseEvent[] = [];
  const messages: ProtocolMessage[] = [];
  let eof: QemuStreamEnd | undefined;
  await analyzeSources([pcap], {
    onEvent: (ev) => events.push(ev),
    onMessage: (m) => {
      if (m.protocol === 'qemu' && m.kind === 'eof') eof = m;
      if (keep?.(m)) messages.push(m);
    },
  });
  return eof ? { events, eof, messages } : { events, messages };
}

/**
 * QEMU's `ram.precopy-bytes + ram.downtime-bytes` (libvirt's `memory_processed` without
 * multifd) as the main stream's walk sees them: the RAM passes less the 10 bytes of
 * SECTION_PART framing per RAM chunk, plus the stop-and-copy RAM less SECTION_END's 18
 * (docs/phase-markers.md; exact on real QEMU 7.2, test/real/qemu-modes.test.ts).
 */
export function mainStreamRam(eof: QemuStreamEnd, ramChunks: number): number {
  return eof.passBytes.slice(0, -1).reduce((a, b) => a + b, 0) - 10 * ramChunks + eof.ramStopCopyBytes! - 18;
}

/**
 * tshark's count of the client→server payload bytes of each TCP connection to `port`
 * (highest relative sequence number reached, so retransmissions count once), by
 * tshark's stream index, in order of the connections' first packets.
 */
export function tsharkBytesPerConnection(pcap: string, port: number): { stream: number; bytes: number; clientPort: number }[] {
  const rows = tsharkFields(pcap, ['tcp.stream', 'tcp.seq', 'tcp.len', 'tcp.srcport'], `tcp.dstport == ${port} && tcp.len > 0`);
  const by = new Map<number, { stream: number; bytes: number; clientPort: number }>();
  for (const [s, seq, len, sport] of rows) {
    const stream = Number(s);
    const end = Number(seq) + Number(len) - 1;
    const cur = by.get(stream) ?? { stream, bytes: 0, clientPort: Number(sport) };
    cur.bytes = Math.max(cur.bytes, end);
    by.set(stream, cur);
  }
  return [...by.values()].sort((a, b) => a.stream - b.stream);
}
