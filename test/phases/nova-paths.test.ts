import { describe, expect, it } from 'vitest';
import { isTokenPath, serverActionIdOf, serverIdOf } from '../../src/phases/nova-paths.js';
import { Rng } from '../../src/generate/rng.js';

// The regexes these scans replaced serve as the oracle, on strings the test makes itself.
const TOKEN_PATH = /\/(?:v3\/auth\/tokens|v2\.0\/tokens)$/;
const SERVER_PATH = /\/servers\/([^/?]+)$/;
const SERVER_ACTION_PATH = /\/servers\/([^/?]+)\/action$/;

const PARTS = ['/v3/auth/tokens', '/v2.0/tokens', '/', 'servers', '/servers/', 'action', '/action', 'v3', 'auth', 'tokens', 'v2.0', '?', 'x', 'detail', '.', 's'];

describe('nova and keystone request paths (hand-scanned) agree with the regexes they replaced', () => {
  it('on 60 000 paths made of the pieces that matter', () => {
    const rng = new Rng(31);
    const paths = ['/v2.1/servers/abc', '/v2.1/servers/abc/action', '/v3/auth/tokens', '/identity/v2.0/tokens', '/servers/',
      'servers/x', '/servers/x?y', '/servers/x/action?z', '/action', '', '/', '/servers//action'];
    for (let n = 0; n < 60_000; n++) {
      const k = 1 + Math.floor(rng.float() * 7);
      let p = '';
      for (let i = 0; i < k; i++) p += PARTS[Math.floor(rng.float() * PARTS.length)];
      paths.push(p);
    }
    const hits = { token: 0, server: 0, action: 0 };
    for (const p of paths) {
      expect(isTokenPath(p), p).toBe(TOKEN_PATH.test(p));
      expect(serverIdOf(p), p).toBe(SERVER_PATH.exec(p)?.[1]);
      expect(serverActionIdOf(p), p).toBe(SERVER_ACTION_PATH.exec(p)?.[1]);
      if (isTokenPath(p)) hits.token++;
      if (serverIdOf(p) !== undefined) hits.server++;
      if (serverActionIdOf(p) !== undefined) hits.action++;
    }
    expect(hits.token).toBeGreaterThan(100);
    expect(hits.server).toBeGreaterThan(100);
    expect(hits.action).toBeGreaterThan(100);
  });
});
