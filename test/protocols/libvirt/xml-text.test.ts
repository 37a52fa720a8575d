import { describe, expect, it } from 'vitest';
import { xmlText } from '../../../src/protocols/libvirt/migration.js';

/** The regex the scanner replaced: the reference on inputs short enough for its backtracking. */
function byRegex(xml: string, tag: string): string | undefined {
  const m = new RegExp(`<${tag}>\\s*([^<]*?)\\s*</${tag}>`).exec(xml);
  return m ? m[1] : undefined;
}

describe('xmlText (linear scan of wire XML)', () => {
  it('agrees with the old regex on random documents built from XML-ish pieces', () => {
    const pieces = ['<name>', '</name>', '<uuid>', '</uuid>', ' ', '\t', '\n', 'vm-1', '<', '>', 'a b', '\u00a0', '</nam', '<name'];
    let seed = 12345;
    const rnd = (n: number): number => { seed = (Math.imul(seed, 1103515245) + 12345) >>> 0; return seed % n; };
    for (let i = 0; i < 20000; i++) {
      let xml = '';
      const parts = 1 + rnd(12);
      for (let p = 0; p < parts; p++) xml += pieces[rnd(pieces.length)];
      for (const tag of ['name', 'uuid']) expect(xmlText(xml, tag), JSON.stringify(xml)).toBe(byRegex(xml, tag));
    }
  });

  it('reads the fields of a real domain XML and a migration cookie', () => {
    const dom = '<domain type="kvm">\n  <name> instance-0000002a </name>\n  <uuid>5f1c9a2e-1b7d-4c1e-9a55-0f2b6c3d4e5f</uuid>\n</domain>';
    expect(xmlText(dom, 'name')).toBe('instance-0000002a');
    expect(xmlText(dom, 'uuid')).toBe('5f1c9a2e-1b7d-4c1e-9a55-0f2b6c3d4e5f');
    const cookie = '<qemu-migration>\n  <name>vm</name>\n  <hostname>cmp-2</hostname>\n  <hostuuid>x</hostuuid>\n</qemu-migration>';
    expect(xmlText(cookie, 'hostname')).toBe('cmp-2');
    expect(xmlText(cookie, 'hostuuid')).toBe('x');
  });

  it('answers the hostile shapes of issue 10 (long blank runs) with the right result', () => {
    // Each of these took seconds to minutes with the regex; the scan touches each character a few times.
    expect(xmlText('<domain><name>' + ' '.repeat(200_000), 'name')).toBeUndefined();
    expect(xmlText('<qemu-migration><hostname>' + '\t'.repeat(600_000), 'hostname')).toBeUndefined();
    expect(xmlText('<name>' + ' '.repeat(200_000) + 'vm' + ' '.repeat(200_000) + '</name>', 'name')).toBe('vm');
    expect(xmlText('<name>'.repeat(100_000) + 'x</name>', 'name')).toBe('x');
  });
});
