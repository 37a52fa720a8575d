import { describe, expect, it } from 'vitest';
import { isIpLiteral, parseMigrateUri } from '../../src/phases/migrate-uri.js';
import { Rng } from '../../src/generate/rng.js';

describe('migrate_uri parsing (hand-scanned: the URI comes off the wire)', () => {
  it('parses the forms libvirt sends', () => {
    expect(parseMigrateUri('tcp:10.0.0.2:49152')).toEqual({ host: '10.0.0.2', port: 49152 });
    expect(parseMigrateUri('tcp://dst-host:49153')).toEqual({ host: 'dst-host', port: 49153 });
    expect(parseMigrateUri('tcp:[fd00::2]:49154')).toEqual({ host: 'fd00::2', port: 49154 });
    expect(parseMigrateUri('tcp:10.0.0.2')).toBeUndefined();
    expect(parseMigrateUri(':1')).toBeUndefined();
  });

  it('isIpLiteral: a dotted quad of digit runs or anything with a colon, as the regex it replaced', () => {
    // The regex is the oracle here only (tests run on our own strings).
    const oracle = (h: string): boolean => /^\d+\.\d+\.\d+\.\d+$/.test(h) || h.includes(':');
    const fixed = ['10.0.0.2', '1.2.3', '1.2.3.4.5', '.1.2.3', '1.2.3.', '1..2.3', 'fd00::2', 'host', '', '999.1.1.1', '1.2.3.4\n', '١.٢.٣.٤'];
    for (const h of fixed) expect(isIpLiteral(h), JSON.stringify(h)).toBe(oracle(h));
    const rng = new Rng(12);
    const alphabet = '0123456789....:a- ';
    let quads = 0;
    for (let n = 0; n < 50_000; n++) {
      const len = Math.floor(rng.float() * 16);
      let h = '';
      for (let i = 0; i < len; i++) h += alphabet[Math.floor(rng.float() * alphabet.length)];
      expect(isIpLiteral(h), JSON.stringify(h)).toBe(oracle(h));
      if (oracle(h) && !h.includes(':')) quads++;
    }
    // The random strings did reach the dotted-quad branch, not only the colon one.
    expect(quads).toBeGreaterThan(10);
  });
});
