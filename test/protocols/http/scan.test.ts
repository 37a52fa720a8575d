import { describe, expect, it } from 'vitest';
import { hasSpace, isDecimal15, isHex12, scanRequestLine, scanStatusLine } from '../../../src/protocols/http/scan.js';
import { Rng } from '../../../src/generate/rng.js';

// The regexes these scans replaced serve as the oracle, on strings the test makes itself.
const REQUEST_LINE = /^([!#$%&'*+.^_`|~0-9A-Za-z-]{1,32}) (\S{1,65535}) HTTP\/1\.([0-9])$/;
const STATUS_LINE = /^HTTP\/1\.([0-9]) ([0-9]{3})(?: .*)?$/;

const SEEDS = [
  'GET /v2.1/servers/detail HTTP/1.1', 'POST /v3/auth/tokens HTTP/1.0', 'HTTP/1.1 200 OK', 'HTTP/1.0 404',
  'HTTP/1.1 202 Accepted here', 'PUT http://nova:8774/v2.1/servers/x/action?y=1 HTTP/1.1', 'M-SEARCH * HTTP/1.1',
];
const NOISE = [' ', '\t', '\r', '\n', '\u00a0', '\u2028', 'H', 'T', 'P', '/', '1', '.', '0', '9', '?', 'a', '!', '~', '(', '\u00ff'];

function mutate(rng: Rng, s: string): string {
  const chars = [...s];
  const edits = 1 + Math.floor(rng.float() * 3);
  for (let e = 0; e < edits; e++) {
    const at = Math.floor(rng.float() * (chars.length + 1));
    const op = rng.float();
    const noise = NOISE[Math.floor(rng.float() * NOISE.length)]!;
    if (op < 0.4) chars.splice(at, 1);
    else if (op < 0.7) chars.splice(at, 0, noise);
    else chars[at] = noise;
  }
  return chars.join('');
}

describe('HTTP scans (hand-written, one pass) agree with the regexes they replaced', () => {
  it('request and status lines on 60 000 mutated lines, plus length limits', () => {
    const rng = new Rng(21);
    const lines = [...SEEDS, `${'A'.repeat(32)} / HTTP/1.1`, `${'A'.repeat(33)} / HTTP/1.1`, `GET ${'x'.repeat(65_535)} HTTP/1.1`,
      `GET ${'x'.repeat(65_536)} HTTP/1.1`, 'GET  / HTTP/1.1', 'GET / HTTP/1.1 ', 'HTTP/1.1 2000', 'HTTP/1.1 200\r', ''];
    for (let n = 0; n < 60_000; n++) lines.push(mutate(rng, SEEDS[n % SEEDS.length]!));
    let requests = 0;
    let statuses = 0;
    for (const line of lines) {
      const r = REQUEST_LINE.exec(line);
      const got = scanRequestLine(line);
      expect(got, JSON.stringify(line.slice(0, 80))).toEqual(r ? { method: r[1], target: r[2], minor: Number(r[3]) } : null);
      const st = STATUS_LINE.exec(line);
      expect(scanStatusLine(line), JSON.stringify(line.slice(0, 80))).toEqual(st ? { minor: Number(st[1]), status: Number(st[2]) } : null);
      if (r) requests++;
      if (st) statuses++;
    }
    // Both outcomes were exercised on both scans.
    expect(requests).toBeGreaterThan(1000);
    expect(statuses).toBeGreaterThan(1000);
    expect(requests + statuses).toBeLessThan(lines.length - 1000);
  });

  it('header-name whitespace, Content-Length and chunk-size tokens', () => {
    const rng = new Rng(22);
    const alphabet = '0123456789abcdefABCDEFgG -\t\u00a0+';
    for (let n = 0; n < 30_000; n++) {
      const len = Math.floor(rng.float() * 18);
      let s = '';
      for (let i = 0; i < len; i++) s += alphabet[Math.floor(rng.float() * alphabet.length)];
      expect(hasSpace(s), JSON.stringify(s)).toBe(/[\s]/.test(s));
      expect(isDecimal15(s), JSON.stringify(s)).toBe(/^[0-9]{1,15}$/.test(s));
      expect(isHex12(s), JSON.stringify(s)).toBe(/^[0-9a-fA-F]{1,12}$/.test(s));
    }
    for (const s of ['1'.repeat(15), '1'.repeat(16), 'f'.repeat(12), 'f'.repeat(13), '', '0']) {
      expect(isDecimal15(s)).toBe(/^[0-9]{1,15}$/.test(s));
      expect(isHex12(s)).toBe(/^[0-9a-fA-F]{1,12}$/.test(s));
    }
  });
});
