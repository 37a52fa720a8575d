import { describe, expect, it } from 'vitest';
import type { FlowInfo } from '../../../src/decode/types.js';
import { libvirtAnalyzer, LibvirtDecoder } from '../../../src/protocols/libvirt/index.js';
import { REMOTE_PROCEDURES } from '../../../src/protocols/libvirt/procedures.js';
import type { Anomaly, LibvirtRpcMessage, ProtocolMessage } from '../../../src/protocols/types.js';
import { p2pConversation, rpcMessage, UUID_TEXT, Xdr } from './rpc-builder.js';

const flow: FlowInfo = {
  id: 3, transport: 'tcp', client: { ip: '10.0.0.1', port: 40000 }, server: { ip: '10.0.0.2', port: 16509 }, midstream: false,
};
type Seg = { dir: 'c2s' | 's2c'; bytes: Uint8Array };

/** Feeds each message split into chunks of `size` bytes; chunk k gets ts = k. */
function run(segs: Seg[], size = 1 << 30): ProtocolMessage[] {
  const out: ProtocolMessage[] = [];
  const d = new LibvirtDecoder(flow, (m) => out.push(m));
  let k = 0n;
  for (const s of segs) {
    for (let off = 0; off < s.bytes.length; off += size) d.data(s.dir, s.bytes.subarray(off, off + size), k++);
  }
  d.end('c2s', k);
  d.end('s2c', k);
  return out;
}
const strip = (ms: ProtocolMessage[]) => ms.map(({ ts: _a, tsEnd: _b, ...rest }) => {
  const r = rest as Partial<LibvirtRpcMessage>;
  delete r.callTs;
  return r;
});

describe('libvirt RPC decoder', () => {
  const conv = p2pConversation();

  it('decodes headers, names, pairing and the migration procedures of a p2p conversation', () => {
    const out = run(conv);
    expect(out.filter((m) => m.protocol === 'anomaly')).toEqual([]);
    const msgs = out as LibvirtRpcMessage[];
    expect(msgs.map((m) => [m.programName, m.procedureName, m.kind, m.serial, m.status])).toEqual([
      ['remote', 'AUTH_LIST', 'call', 0, 'ok'], ['remote', 'AUTH_LIST', 'reply', 0, 'ok'],
      ['remote', 'CONNECT_OPEN', 'call', 1, 'ok'], ['remote', 'CONNECT_OPEN', 'reply', 1, 'ok'],
      ['keepalive', 'PING', 'message', 0, 'ok'], ['keepalive', 'PONG', 'message', 0, 'ok'],
      ['remote', 'DOMAIN_MIGRATE_PREPARE3_PARAMS', 'call', 9, 'ok'], ['remote', 'DOMAIN_MIGRATE_PREPARE3_PARAMS', 'reply', 9, 'ok'],
      ['remote', 'DOMAIN_MIGRATE_FINISH3_PARAMS', 'call', 10, 'ok'], ['remote', 'DOMAIN_MIGRATE_FINISH3_PARAMS', 'reply', 10, 'ok'],
      ['remote', 'DOMAIN_MIGRATE_PREPARE3_PARAMS', 'call', 11, 'ok'], ['remote', 'DOMAIN_MIGRATE_PREPARE3_PARAMS', 'reply', 11, 'error'],
      ['remote', 'CONNECT_CLOSE', 'call', 12, 'ok'], ['remote', 'CONNECT_CLOSE', 'reply', 12, 'ok'],
    ]);
    expect(msgs.map((m) => m.length)).toEqual(conv.map((s) => s.bytes.length));
    expect(msgs[0]).toMatchObject({ program: 0x20008086, version: 1, procedure: 66, src: flow.client, dst: flow.server, flowId: 3 });
    expect(msgs[1]).toMatchObject({ src: flow.server, dst: flow.client, callTs: msgs[0]!.ts });
    expect(msgs[6]!.migration).toEqual({ domainName: 'vm1', domainUuid: UUID_TEXT, hostname: 'src', hostUuid: 'aaaaaaaa-0000-4000-8000-000000000003' });
    expect(msgs[7]!.migration).toEqual({
      migrateUri: 'tcp:10.0.0.2:49152', domainName: 'vm1', domainUuid: UUID_TEXT, hostname: 'dsthost', hostUuid: 'aaaaaaaa-0000-4000-8000-000000000007',
    });
    expect(msgs[8]!.migration).toMatchObject({ migrateUri: 'tcp:10.0.0.2:49152', domainName: 'vm1' });
    expect(msgs[9]!.migration).toMatchObject({ domainName: 'vm1', domainUuid: UUID_TEXT, hostname: 'dsthost' });
    expect(msgs[10]!.migration).toEqual({ domainName: 'vm2' });
    expect(msgs[11]!.error).toEqual({ code: 55, message: "operation failed: domain 'vm2' already exists" });
    expect(msgs[11]!.migration).toBeUndefined();
    expect(msgs[11]!.callTs).toBe(msgs[10]!.ts);
    expect(msgs[4]!.callTs).toBeUndefined();
  });

  it('gives identical messages for any chunking, down to 1-byte chunks, with ts of the first byte', () => {
    const whole = strip(run(conv));
    for (const size of [1, 2, 3, 5, 27, 28, 29, 100]) expect(strip(run(conv, size)), `chunks of ${size}`).toEqual(whole);
    const bytewise = run(conv, 1) as LibvirtRpcMessage[];
    // one chunk per byte: message i starts at chunk Σ lengths before it and ends at the last of its bytes
    let at = 0n;
    conv.forEach((s, i) => {
      expect(bytewise[i]!.ts).toBe(at);
      expect(bytewise[i]!.tsEnd).toBe(at + BigInt(s.bytes.length) - 1n);
      at += BigInt(s.bytes.length);
    });
    // all messages in one buffer per direction
    const c2s = conv.filter((s) => s.dir === 'c2s').flatMap((s) => [...s.bytes]);
    const out: ProtocolMessage[] = [];
    const d = new LibvirtDecoder(flow, (m) => out.push(m));
    d.data('c2s', Uint8Array.from(c2s), 1n);
    expect(out.map((m) => (m as LibvirtRpcMessage).serial)).toEqual([0, 1, 0, 9, 10, 11, 12]);
  });

  it('reports malformed framing once and stops that direction only', () => {
    const bad = (bytes: Uint8Array) => {
      const out = run([{ dir: 'c2s', bytes }, ...conv.filter((s) => s.dir === 's2c')]);
      const an = out.filter((m): m is Anomaly => m.protocol === 'anomaly');
      expect(an).toHaveLength(1);
      expect(out.filter((m) => m.protocol === 'libvirt')).toHaveLength(conv.filter((s) => s.dir === 's2c').length);
      return { code: an[0]!.code, ...an[0]!.fields };
    };
    expect(bad(new Xdr().u32(12).u32(0x20008086).u32(1).u32(1).u32(0).u32(0).u32(0).bytes())).toEqual({ code: 'LIBVIRT_BAD_LENGTH', length: 12 });
    expect(bad(new Xdr().u32(0x7fffffff).u32(0x20008086).u32(1).u32(1).u32(0).u32(0).u32(0).bytes())).toEqual({ code: 'LIBVIRT_BAD_LENGTH', length: 0x7fffffff });
    expect(bad(rpcMessage({ procedure: 1, type: 9, serial: 1 }))).toEqual({ code: 'LIBVIRT_BAD_TYPE', type: 9 });
    expect(bad(rpcMessage({ procedure: 1, type: 0, serial: 1, status: 7 }))).toEqual({ code: 'LIBVIRT_BAD_STATUS', status: 7 });
    expect(bad(conv[6]!.bytes.subarray(0, 40))).toEqual({ code: 'LIBVIRT_ENDED_IN_MESSAGE' });
  });

  it('reports an undecodable migration body but still emits the message', () => {
    const out = run([{ dir: 'c2s', bytes: rpcMessage({ procedure: 303, type: 0, serial: 4 }, new Xdr().u32(1000).bytes()) }]);
    expect(out.map((m) => m.protocol)).toEqual(['anomaly', 'libvirt']);
    expect((out[1] as LibvirtRpcMessage).migration).toBeUndefined();
  });

  it('skips a capture gap inside a body it does not decode', () => {
    const big = rpcMessage({ procedure: 7, type: 1, serial: 5 }, new Uint8Array(1000));
    const out: ProtocolMessage[] = [];
    const d = new LibvirtDecoder(flow, (m) => out.push(m));
    d.data('s2c', big.subarray(0, 100), 1n);
    d.gap('s2c', 800, 2n);
    d.data('s2c', big.subarray(900), 3n);
    d.data('s2c', conv[1]!.bytes, 4n);
    expect(out.map((m) => m.protocol)).toEqual(['libvirt', 'libvirt']);
    expect(out[0]).toMatchObject({ procedureName: 'CONNECT_GET_CAPABILITIES', ts: 1n, tsEnd: 3n });
  });

  it('a cut or lost tail of a decoded migration body: the message is still raised, the next one framed', () => {
    // libvirt 9.0's prepare3 call arrives as 1448 + 652 bytes; a 1448-byte snaplen cuts both.
    const prepare = conv.find((s) => s.dir === 'c2s' && new DataView(s.bytes.buffer, s.bytes.byteOffset).getInt32(12) === 303)!.bytes;
    const next = rpcMessage({ procedure: 7, type: 0, serial: 99 });
    for (const kind of ['cut', 'lost'] as const) {
      const out: ProtocolMessage[] = [];
      const d = new LibvirtDecoder(flow, (m) => out.push(m));
      d.data('c2s', prepare.subarray(0, 60), 1n);
      d.gap('c2s', prepare.length - 60, 2n, kind);
      d.data('c2s', next, 3n);
      expect(out.map((m) => m.protocol), kind).toEqual(['libvirt', 'libvirt']);
      expect(out[0]).toMatchObject({ procedure: 303, kind: 'call', ts: 1n, missingBytes: prepare.length - 60, missingKind: kind });
      expect((out[0] as LibvirtRpcMessage).migration).toBeUndefined();
      expect(out[1]).toMatchObject({ serial: 99, ts: 3n });
    }
  });

  it('a hole that swallows a header: resynchronises on the next segment starting with a valid header', () => {
    const a = rpcMessage({ procedure: 7, type: 0, serial: 1 }, new Uint8Array(100));
    const b = rpcMessage({ procedure: 8, type: 0, serial: 2 }, new Uint8Array(100));
    const c = rpcMessage({ procedure: 9, type: 0, serial: 3 });
    const out: ProtocolMessage[] = [];
    const d = new LibvirtDecoder(flow, (m) => out.push(m));
    d.data('c2s', a.subarray(0, 50), 1n);
    d.gap('c2s', a.length - 50 + 40, 2n, 'lost'); // the rest of a and b's header
    d.data('c2s', b.subarray(40), 3n); // mid-message: not a header, dropped
    d.data('c2s', c, 4n);
    const rpc = out.filter((m): m is LibvirtRpcMessage => m.protocol === 'libvirt');
    expect(rpc.map((m) => [m.serial, m.ts])).toEqual([[1, 1n], [3, 4n]]);
    expect(out.filter((m): m is Anomaly => m.protocol === 'anomaly').map((m) => m.code)).toEqual(['LIBVIRT_FRAMING_LOST_RESYNC']);
  });

  it('probes a first CALL of a known program, and names unknown programs and procedures', () => {
    expect(libvirtAnalyzer.probe(conv[0]!.bytes, flow)).toBe(true);
    expect(libvirtAnalyzer.probe(conv[1]!.bytes, flow)).toBe(false); // a reply
    expect(libvirtAnalyzer.probe(Uint8Array.from([0x51, 0x45, 0x56, 0x4d, 0, 0, 0, 3]), flow)).toBe(false);
    const out = run([{ dir: 'c2s', bytes: rpcMessage({ program: 0x1234, procedure: 5, type: 0, serial: 1 }) },
      { dir: 'c2s', bytes: rpcMessage({ procedure: 9999, type: 0, serial: 2 }) }]) as LibvirtRpcMessage[];
    expect(out.map((m) => [m.programName, m.procedureName])).toEqual([['0x00001234', 'PROC_5'], ['remote', 'PROC_9999']]);
  });

  it('carries the REMOTE procedure table of remote_protocol.x', () => {
    const spot: [number, string][] = [[1, 'CONNECT_OPEN'], [60, 'CONNECT_SUPPORTS_FEATURE'], [61, 'DOMAIN_MIGRATE_PREPARE'],
      [66, 'AUTH_LIST'], [90, 'STORAGE_POOL_SET_AUTOSTART'], [302, 'DOMAIN_MIGRATE_BEGIN3_PARAMS'],
      [306, 'DOMAIN_MIGRATE_FINISH3_PARAMS'], [360, 'CONNECT_REGISTER_CLOSE_CALLBACK']];
    for (const [n, name] of spot) expect(REMOTE_PROCEDURES[n]).toBe(name);
  });
});

describe('libvirt job stats (virDomainGetJobStats) on the link', () => {
  it('the call names the domain, the reply gives the auto-converge throttle', () => {
    const proc = REMOTE_PROCEDURES.indexOf('DOMAIN_GET_JOB_STATS');
    const UUID_BYTES = [0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc, 0x4d, 0xef, 0x80, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07];
    const call = rpcMessage({ procedure: proc, type: 0, serial: 7 }, new Xdr().domain('vm1', UUID_BYTES).u32(0).bytes());
    const reply = rpcMessage({ procedure: proc, type: 1, serial: 7 }, new Xdr().i32(2).params([
      ['time_elapsed', 4, 1234], ['memory_iteration', 4, 5], ['auto_converge_throttle', 1, 40], ['memory_dirty_rate', 4, 9000],
    ]).bytes());
    const out = run([{ dir: 'c2s', bytes: call }, { dir: 's2c', bytes: reply }]);
    expect(out.filter((m) => m.protocol === 'anomaly')).toEqual([]);
    const [c, r] = out as LibvirtRpcMessage[];
    expect(c).toMatchObject({ procedureName: 'DOMAIN_GET_JOB_STATS', kind: 'call', migration: { domainName: 'vm1', domainUuid: UUID_TEXT } });
    expect(r).toMatchObject({ procedureName: 'DOMAIN_GET_JOB_STATS', kind: 'reply', migration: { autoConvergeThrottle: 40 } });
  });
});
