/**
 * Builds QEMU migration streams byte by byte for the decoder tests, recording the
 * offsets the decoder must report (ground truth by construction).
 */
export class QemuStreamBuilder {
  private readonly parts: number[] = [];
  /** Offsets of interest, filled while building. */
  readonly marks = {
    passStarts: [] as number[],
    endRam: -1,
    afterEndRam: -1,
    eof: -1,
    chunkEnds: [] as number[],
  };
  normalPages = 0;
  zeroPages = 0;
  private sectionAt = 0;
  private pagesInSection = 0;

  constructor(readonly pageSize = 4096) {}

  get length(): number {
    return this.parts.length;
  }

  u8(v: number): this { this.parts.push(v & 0xff); return this; }
  u16(v: number): this { return this.u8(v >>> 8).u8(v); }
  u32(v: number): this { return this.u8(v >>> 24).u8(v >>> 16).u8(v >>> 8).u8(v); }
  u64(v: number): this { return this.u32(Math.floor(v / 4294967296)).u32(v >>> 0); }
  str(s: string): this { for (const c of s) this.u8(c.charCodeAt(0)); return this; }
  bytes(b: ArrayLike<number>): this { for (let i = 0; i < b.length; i++) this.u8(b[i]!); return this; }

  header(): this { return this.u32(0x5145564d).u32(3); }
  configuration(machine: string, pageBits?: number): this {
    this.u8(0x07).u32(machine.length).str(machine);
    if (pageBits !== undefined) {
      const id = 'configuration/target-page-bits';
      this.u8(0x05).u8(id.length).str(id).u32(1).u32(pageBits);
    }
    return this;
  }
  sectionStart(type: 0x01 | 0x04, id: number, idstr: string, instance = 0, version = 4): this {
    this.sectionAt = this.length;
    this.pagesInSection = 0;
    return this.u8(type).u32(id).u8(idstr.length).str(idstr).u32(instance).u32(version);
  }
  sectionPart(type: 0x02 | 0x03, id: number): this {
    if (type === 0x03) this.marks.endRam = this.length;
    this.sectionAt = this.length;
    this.pagesInSection = 0;
    return this.u8(type).u32(id);
  }
  footer(id: number): this { return this.u8(0x7e).u32(id); }
  memSize(blocks: [string, number][]): this {
    this.u64(blocks.reduce((a, [, n]) => a + n, 0) | 0x04);
    for (const [name, size] of blocks) this.u8(name.length).str(name).u64(size);
    return this;
  }
  /**
   * A page record; `block` undefined = CONTINUE. `passStart` marks the first page of a
   * pass: the pass begins at the section header when the page is the section's first.
   */
  page(kind: 'zero' | 'page', addr: number, block?: string, passStart = false): this {
    if (passStart) this.marks.passStarts.push(this.pagesInSection === 0 ? this.sectionAt : this.length);
    this.pagesInSection++;
    const flags = (kind === 'zero' ? 0x02 : 0x08) | (block === undefined ? 0x20 : 0);
    this.u64(addr + flags);
    if (block !== undefined) this.u8(block.length).str(block);
    if (kind === 'zero') { this.zeroPages++; return this.u8(0); }
    this.normalPages++;
    for (let i = 0; i < this.pageSize; i++) this.u8((addr + i * 7) & 0xff);
    return this;
  }
  eos(): this { this.u64(0x10); this.marks.chunkEnds.push(this.length); return this; }
  eof(): this { this.marks.eof = this.length; return this.u8(0x00); }
  vmdesc(json: string): this { return this.u8(0x06).u32(json.length).str(json); }
  build(): Uint8Array { return Uint8Array.from(this.parts); }
}

/**
 * A complete small stream: two RAM blocks, two pre-copy passes (the second wraps back
 * to the first block), END(ram) with one page, three device sections (one whose data
 * contains a false footer candidate), EOF and VMDESCRIPTION.
 */
export function sampleStream(pageSize = 4096): QemuStreamBuilder {
  const P = pageSize;
  const s = new QemuStreamBuilder(pageSize);
  s.header().configuration('pc-i440fx-7.2', pageSize === 4096 ? undefined : Math.log2(pageSize));
  s.sectionStart(0x01, 2, 'ram').memSize([['pc.ram', 8 * P], ['vga.vram', 2 * P]]).eos().footer(2);
  s.sectionPart(0x02, 2)
    .page('page', 0, 'pc.ram', true).page('zero', P).page('zero', 2 * P).page('page', 3 * P).eos().footer(2);
  s.sectionPart(0x02, 2)
    .page('zero', 4 * P).page('page', 7 * P).page('zero', 0, 'vga.vram').page('page', P).eos().footer(2);
  s.sectionPart(0x02, 2)
    .page('page', 3 * P, 'pc.ram', true).page('page', 5 * P).eos().footer(2);
  s.sectionPart(0x03, 2).page('page', 3 * P).eos().footer(2);
  s.marks.afterEndRam = s.length;
  s.sectionStart(0x04, 0, 'timer').u64(12345).u8(0x7e).u32(0).u8(0x99).u32(7).footer(0);
  s.sectionStart(0x04, 3, 'cpu').bytes([0x7e, 0, 0, 0, 3, 0x04, 0, 0, 0, 9, 0]).u8(0x05).u8(3).str('sub').u32(1).footer(3);
  s.sectionStart(0x04, 4, 'apic', 0, 3).u32(0xfee00000).footer(4);
  s.eof().vmdesc('{"page_size":4096,"devices":[]}');
  return s;
}

/** A multifd channel as QEMU 7.2 writes it (migration/multifd.c), with its truth. */
/** staleSize: next_packet_size of a bare header QEMU 7.2 sends after a sync-joined data packet (no data follows). */
export interface MultifdPacketPlan { packetNum: number; block?: string; offsets?: number[]; sync?: boolean; staleSize?: number }
export function multifdChannel(channel: number, packets: MultifdPacketPlan[], pageSize = 4096, alloc = 128): { bytes: Uint8Array; packetBytes: number[] } {
  const b = new QemuStreamBuilder(pageSize);
  b.u32(0x11223344).u32(1).bytes(new Array<number>(16).fill(0xab)).u8(channel).bytes(new Array<number>(7 + 32).fill(0));
  const packetBytes: number[] = [];
  for (const p of packets) {
    const at = b.length;
    const offsets = p.offsets ?? [];
    b.u32(0x11223344).u32(1).u32(p.sync ? 1 : 0).u32(alloc).u32(offsets.length).u32(p.staleSize ?? offsets.length * pageSize).u64(p.packetNum);
    b.bytes(new Array<number>(32).fill(0));
    const name = p.block ?? (offsets.length > 0 ? 'pc.ram' : '');
    b.str(name).bytes(new Array<number>(256 - name.length).fill(0));
    for (let i = 0; i < alloc; i++) b.u64(offsets[i] ?? 0);
    for (let i = 0; i < offsets.length; i++) b.bytes(new Array<number>(pageSize).fill((i * 7) & 0xff));
    packetBytes.push(b.length - at);
  }
  return { bytes: b.build(), packetBytes };
}
