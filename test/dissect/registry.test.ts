import { describe, expect, it } from 'vitest';
import { PS_PER_MS, PS_PER_S } from '../../src/core/time.js';
import { Dissector } from '../../src/dissect/dissector.js';
import { Conversation } from './helpers/conversation.js';
import { collect } from './helpers/recorder.js';

/** The Dissector with the real registered analyzers (src/protocols/registry.ts). */
describe('registered analyzers', () => {
  const T0 = 1_700_000_000n * PS_PER_S;
  const enc = (s: string): Uint8Array => new TextEncoder().encode(s);

  it('HTTP on nova-api port 8774 is chosen by port; requests/responses come out with wire times', () => {
    const { emit, msgs } = collect();
    const d = new Dissector(emit);
    const conv = new Conversation({ sport: 8774, cport: 51000 });
    const body = '{"os-migrateLive": {"host": "dst-host", "block_migration": false}}';
    const req = `POST /v2.1/servers/abc/action HTTP/1.1\r\nHost: nova\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`;
    const res = 'HTTP/1.1 202 Accepted\r\nContent-Length: 0\r\n\r\n';
    for (const p of conv.handshake(T0)) d.packet(p);
    d.packet(conv.data(true, 0, enc(req), T0 + 1n * PS_PER_MS));
    d.packet(conv.data(false, 0, enc(res), T0 + 5n * PS_PER_MS, req.length));
    d.finish();
    const http = msgs.filter((m) => m.protocol === 'http');
    expect(http.map((m) => [m.kind, m.ts - T0])).toEqual([['request', PS_PER_MS], ['response', 5n * PS_PER_MS]]);
    expect(http[0]).toMatchObject({ method: 'POST', path: '/v2.1/servers/abc/action', flowId: 1 });
    expect(d.stats.flows.byProtocol).toEqual({ http: 1 });
  });

  it('the QEMU stream on a non-default port is found by probing the first client bytes', () => {
    const { emit, msgs } = collect();
    const d = new Dissector(emit);
    const conv = new Conversation({ sport: 61000, cport: 52000 });
    for (const p of conv.handshake(T0)) d.packet(p);
    d.packet(conv.data(true, 0, new Uint8Array([0x51, 0x45, 0x56, 0x4d, 0, 0, 0, 3]), T0 + 7n));
    d.finish();
    expect(d.stats.flows.byProtocol).toEqual({ qemu: 1 });
    expect(msgs.some((m) => m.protocol === 'qemu' && m.kind === 'header' && m.ts === T0 + 7n)).toBe(true);
  });
});
