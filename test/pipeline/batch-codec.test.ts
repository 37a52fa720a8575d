import { describe, expect, it } from 'vitest';
import type { Endpoint } from '../../src/core/message.js';
import { MessagePacker, unpackMessages } from '../../src/pipeline/ring/batch-codec.js';
import type { IcmpEcho, ProtocolMessage, QemuRamChunk, TcpSegmentMarker } from '../../src/protocols/types.js';

const T = 1_764_633_600_000_000_000_000n; // 2025-12-02 in ps: far above 2^64
const src: Endpoint = { ip: '10.0.0.1', port: 50000 };
const dst: Endpoint = { ip: '10.0.0.2', port: 49152 };

const chunk = (dt: bigint, iteration: number, pages: number): QemuRamChunk => ({
  protocol: 'qemu', kind: 'ram-chunk', ts: T + dt, tsEnd: T + dt + 7n, flowId: 3, src, dst,
  iteration, pages, passBytes: pages * 4104, streamBytes: 1000 + pages * 4104,
});
const echo = (dt: bigint, kind: IcmpEcho['kind'], seq: number): IcmpEcho => ({
  protocol: 'icmp', kind, ts: T + dt, tsEnd: T + dt, flowId: -1, id: 7, seq,
  // Fresh endpoint objects per message, as the dissector builds them for ICMP.
  src: { ip: kind === 'echo-request' ? '10.0.0.9' : '10.0.0.50', port: 0 },
  dst: { ip: kind === 'echo-request' ? '10.0.0.50' : '10.0.0.9', port: 0 },
});
const syn: TcpSegmentMarker = { protocol: 'tcp', kind: 'syn', dir: 'c2s', ts: T, tsEnd: T, flowId: 3, src, dst };

describe('batch codec: worker → main thread message packing', () => {
  it('packs RAM chunks and echoes as numbers, clones the rest, and rebuilds all of them in order', () => {
    const p = new MessagePacker();
    const input: ProtocolMessage[] = [
      syn, chunk(10n, 1, 32), echo(20n, 'echo-request', 1), echo(30n, 'echo-reply', 1), chunk(40n, 1, 5),
    ];
    for (const m of input) p.push(m);
    expect(p.length).toBe(5);
    const packed = p.take();
    expect([...packed.kinds]).toEqual([0, 1, 2, 3, 1]);
    expect(packed.others).toEqual([syn]);
    expect(packed.tsBase).toBe(T + 10n);
    // 9 numbers per packed message: ts, tsEnd (after tsBase), flowId, src, dst (endpoint
    // indexes), then iteration, pages, passBytes, streamBytes or id, seq, 0, 0.
    expect([...packed.nums]).toEqual([
      0, 7, 3, 0, 1, 1, 32, 32 * 4104, 1000 + 32 * 4104,
      10, 10, -1, 2, 3, 7, 1, 0, 0,
      20, 20, -1, 3, 2, 7, 1, 0, 0,
      30, 37, 3, 0, 1, 1, 5, 5 * 4104, 1000 + 5 * 4104,
    ]);
    // Equal endpoints are sent once, by value, whatever object carried them.
    expect(packed.endpoints).toEqual([src, dst, { ip: '10.0.0.9', port: 0 }, { ip: '10.0.0.50', port: 0 }]);
    // What postMessage does to it on the way.
    expect(unpackMessages(structuredClone(packed))).toEqual(input);
  });

  it('falls back to cloning a message whose time is not exact as a double after the base', () => {
    const p = new MessagePacker();
    const far = chunk(1n << 60n, 2, 1); // 2^60 ps after the first: beyond 2^53
    p.push(chunk(0n, 1, 1));
    p.push(far);
    const packed = p.take();
    expect([...packed.kinds]).toEqual([1, 0]);
    expect(packed.others).toEqual([far]);
    expect(unpackMessages(packed)).toEqual([chunk(0n, 1, 1), far]);
  });

  it('starts every batch afresh: base, endpoint table and buffers', () => {
    const p = new MessagePacker();
    p.push(echo(5n, 'echo-request', 1));
    p.take();
    expect(p.length).toBe(0);
    p.push(echo(99n, 'echo-reply', 2));
    const second = p.take();
    expect(second.tsBase).toBe(T + 99n);
    expect(second.endpoints).toEqual([{ ip: '10.0.0.50', port: 0 }, { ip: '10.0.0.9', port: 0 }]);
    expect(unpackMessages(second)).toEqual([echo(99n, 'echo-reply', 2)]);
    const empty = p.take();
    expect([empty.kinds.length, empty.nums.length, empty.others.length, empty.tsBase]).toEqual([0, 0, 0, 0n]);
    expect(unpackMessages(empty)).toEqual([]);
  });
});
