import { createHash, timingSafeEqual } from 'node:crypto';
import { isIP } from 'node:net';
import { UsageError } from '../core/errors.js';

export interface ListenAddress { host: string; port: number }

export const DEFAULT_LISTEN = '127.0.0.1:9470';

/** "127.0.0.1:9470", "[::1]:9470", "0.0.0.0:80", "localhost:9470" → host and port. */
export function parseListen(text: string): ListenAddress {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(text);
  const port = m ? Number(m[3]) : NaN;
  if (!m || port > 65_535) throw new UsageError(`--listen expects HOST:PORT or [IPv6]:PORT (got '${text}')`);
  return { host: m[1] ?? m[2]!, port };
}

/** Only the loopback interface: nothing else on the network can connect. */
export function isLoopback(host: string): boolean {
  if (host === 'localhost') return true;
  if (isIP(host) === 4) return host.startsWith('127.');
  if (isIP(host) === 6) return host === '::1' || /^(0{0,4}:){7}0{0,3}1$/.test(host);
  return false;
}

/** A non-loopback address needs a token, or the operator's explicit --insecure. */
export function checkBind(addr: ListenAddress, token: string | undefined, insecure: boolean): void {
  if (isLoopback(addr.host) || token !== undefined || insecure) return;
  throw new UsageError(`--listen ${addr.host} is reachable from the network: give --token/--token-file (every request then needs 'Authorization: Bearer TOKEN'), or --insecure to serve it unauthenticated`);
}

/**
 * Bearer-token check in constant time: both sides are hashed first, so neither the
 * token's length nor a common prefix shows in the timing.
 */
export class TokenCheck {
  private readonly digest: Buffer;

  constructor(token: string) {
    if (token.length < 16) throw new UsageError('the token must be at least 16 characters');
    this.digest = createHash('sha256').update(token).digest();
  }

  matches(presented: string | undefined): boolean {
    const d = createHash('sha256').update(presented ?? '').digest();
    return timingSafeEqual(d, this.digest) && presented !== undefined;
  }

  /** `Authorization: Bearer X`, or `access_token=X` in the query (RFC 6750 §2.3: how a
   *  browser page passes it to its WebSocket and fetches). */
  static presented(authorization: string | undefined, url: URL): string | undefined {
    if (authorization !== undefined) {
      const m = /^Bearer ([\x21-\x7e]{1,512})$/.exec(authorization);
      return m ? m[1] : undefined;
    }
    return url.searchParams.get('access_token') ?? undefined;
  }
}
