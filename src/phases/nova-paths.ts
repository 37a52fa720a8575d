/**
 * The Keystone and nova-api request paths the OpenStack phases look for, scanned by
 * hand (they come off the wire: no regex engine on packet data).
 */

const TOKEN_PATHS = ['/v3/auth/tokens', '/v2.0/tokens'] as const;
const SERVERS = '/servers';
const ACTION = '/action';

/** A Keystone token request: the path ends in /v3/auth/tokens or /v2.0/tokens. */
export function isTokenPath(path: string): boolean {
  return path.endsWith(TOKEN_PATHS[0]) || path.endsWith(TOKEN_PATHS[1]);
}

/**
 * The server id of a path ending in `/servers/<id>` (an id without '/' or '?'), else
 * undefined. The id runs from the last '/', so the one before it must end `/servers`.
 */
export function serverIdOf(path: string, end = path.length): string | undefined {
  const slash = path.lastIndexOf('/', end - 1);
  if (slash < SERVERS.length || slash + 1 >= end) return undefined;
  const id = path.slice(slash + 1, end);
  if (id.includes('?')) return undefined;
  return path.startsWith(SERVERS, slash - SERVERS.length) ? id : undefined;
}

/** The server id of a path ending in `/servers/<id>/action`, else undefined. */
export function serverActionIdOf(path: string): string | undefined {
  return path.endsWith(ACTION) ? serverIdOf(path, path.length - ACTION.length) : undefined;
}
