/** XDR encoding for building libvirt RPC messages in tests. */
export class Xdr {
  private readonly b: number[] = [];
  u32(v: number): this { this.b.push((v >>> 24) & 0xff, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff); return this; }
  i32(v: number): this { return this.u32(v >>> 0); }
  u64(v: number): this { return this.u32(Math.floor(v / 4294967296)).u32(v >>> 0); }
  f64(v: number): this { const d = new DataView(new ArrayBuffer(8)); d.setFloat64(0, v); return this.fixed(new Uint8Array(d.buffer)); }
  fixed(bytes: ArrayLike<number>): this {
    for (let i = 0; i < bytes.length; i++) this.b.push(bytes[i]!);
    while (this.b.length % 4) this.b.push(0);
    return this;
  }
  opaque(bytes: ArrayLike<number>): this { return this.u32(bytes.length).fixed(bytes); }
  string(s: string): this { return this.opaque(new TextEncoder().encode(s)); }
  optString(s: string | undefined): this { return s === undefined ? this.u32(0) : this.u32(1).string(s); }
  domain(name: string, uuid: number[], id = -1): this { return this.string(name).fixed(uuid).i32(id); }
  /** remote_typed_param params<>: [field, type, value]. */
  params(ps: [string, number, number | string][]): this {
    this.u32(ps.length);
    for (const [field, type, value] of ps) {
      this.string(field).i32(type);
      if (type === 7) this.string(value as string);
      else if (type === 5) this.f64(value as number);
      else if (type === 3 || type === 4) this.u64(value as number);
      else this.u32(value as number);
    }
    return this;
  }
  bytes(): Uint8Array { return Uint8Array.from(this.b); }
}

export interface Header { program?: number; version?: number; procedure: number; type: number; serial: number; status?: number }

/** length + header + body. */
export function rpcMessage(h: Header, body: Uint8Array = new Uint8Array(0)): Uint8Array {
  const x = new Xdr().u32(28 + body.length).u32(h.program ?? 0x20008086).u32(h.version ?? 1)
    .i32(h.procedure).i32(h.type).u32(h.serial).i32(h.status ?? 0).bytes();
  const out = new Uint8Array(x.length + body.length);
  out.set(x);
  out.set(body, x.length);
  return out;
}

export const UUID = [0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc, 0x4d, 0xef, 0x80, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07];
export const UUID_TEXT = '12345678-9abc-4def-8001-020304050607';

export function cookie(host: string): Uint8Array {
  return new TextEncoder().encode(
    `<qemu-migration>\n  <name>vm1</name>\n  <uuid>${UUID_TEXT}</uuid>\n  <hostname>${host}</hostname>\n  <hostuuid>aaaaaaaa-0000-4000-8000-00000000000${host.length}</hostuuid>\n</qemu-migration>\n\0`,
  );
}

/** A p2p conversation, as (direction, bytes) in wire order. */
export function p2pConversation(): { dir: 'c2s' | 's2c'; bytes: Uint8Array }[] {
  const c = (procedure: number, serial: number, body?: Uint8Array, program?: number) =>
    ({ dir: 'c2s' as const, bytes: rpcMessage({ procedure, type: 0, serial, program }, body) });
  const r = (procedure: number, serial: number, body?: Uint8Array, status = 0) =>
    ({ dir: 's2c' as const, bytes: rpcMessage({ procedure, type: 1, serial, status }, body) });
  const domXml = `<domain type='qemu'>\n  <name>vm1</name>\n  <uuid>${UUID_TEXT}</uuid>\n</domain>`;
  return [
    c(66, 0), r(66, 0, new Xdr().u32(1).u32(0).bytes()),
    c(1, 1, new Xdr().optString(undefined).u32(0).bytes()), r(1, 1),
    { dir: 's2c', bytes: rpcMessage({ program: 0x6b656570, procedure: 1, type: 2, serial: 0 }) },
    { dir: 'c2s', bytes: rpcMessage({ program: 0x6b656570, procedure: 2, type: 2, serial: 0 }) },
    c(303, 9, new Xdr().params([
      ['destination_xml', 7, domXml], ['bandwidth', 4, 0], ['auto_converge_increment', 1, 10],
      ['compression_mt_dthreads', 2, 2], ['some_double', 5, 1.5], ['persist_xml', 3, 5], ['boolean_one', 6, 1],
    ]).opaque(cookie('src')).u32(0x203).bytes()),
    r(303, 9, new Xdr().opaque(cookie('dsthost')).optString('tcp:10.0.0.2:49152').bytes()),
    c(306, 10, new Xdr().params([['migrate_uri', 7, 'tcp:10.0.0.2:49152']]).opaque(cookie('src')).u32(0x203).i32(0).bytes()),
    r(306, 10, new Xdr().domain('vm1', UUID, 3).opaque(cookie('dsthost')).bytes()),
    c(303, 11, new Xdr().params([['destination_name', 7, 'vm2']]).opaque([]).u32(0).bytes()),
    r(303, 11, new Xdr().i32(55).i32(10).optString("operation failed: domain 'vm2' already exists").i32(2)
      .u32(0).optString(undefined).optString(undefined).optString(undefined).i32(0).i32(0).u32(0).bytes(), 1),
    c(2, 12), r(2, 12),
  ];
}
