/**
 * The `migrate_uri` libvirt passes in prepare3 (where the QEMU stream will connect):
 * parsed from wire bytes, so scanned by hand, linear in its length.
 */

/** "tcp:10.0.0.2:49152", "tcp://host:49152", "tcp:[fd00::2]:49152" → host and port. */
export function parseMigrateUri(uri: string): { host: string; port: number } | undefined {
  // Scanned by hand (the URI comes from the wire): scheme of letters and '+', ':', an
  // optional '//', then '[v6]' or a host without ':' and '/', then ':' and the port digits.
  const isDigit = (c: number): boolean => c >= 0x30 && c <= 0x39;
  let i = 0;
  while (i < uri.length) {
    const c = uri.charCodeAt(i) | 0x20;
    if ((c < 0x61 || c > 0x7a) && uri.charCodeAt(i) !== 0x2b) break;
    i++;
  }
  if (i === 0 || uri.charCodeAt(i) !== 0x3a) return undefined;
  i++;
  if (uri.startsWith('//', i)) i += 2;
  const hostAt = i;
  /** The port after the host ending at `end` (':' then at least one digit), or -1. */
  const portAfter = (end: number): number => {
    if (uri.charCodeAt(end) !== 0x3a || !isDigit(uri.charCodeAt(end + 1))) return -1;
    let j = end + 1;
    while (j < uri.length && isDigit(uri.charCodeAt(j))) j++;
    return Number(uri.slice(end + 1, j));
  };
  const close = uri.charCodeAt(hostAt) === 0x5b ? uri.indexOf(']', hostAt + 1) : -1;
  if (close > hostAt + 1) {
    const port = portAfter(close + 1);
    if (port >= 0) return { host: uri.slice(hostAt + 1, close), port };
  }
  let end = hostAt;
  while (end < uri.length && uri.charCodeAt(end) !== 0x3a && uri.charCodeAt(end) !== 0x2f) end++;
  if (end === hostAt) return undefined;
  const port = portAfter(end);
  if (port < 0) return undefined;
  let host = uri.slice(hostAt, end);
  if (host.startsWith('[')) host = host.slice(1);
  if (host.endsWith(']')) host = host.slice(0, -1);
  return { host, port };
}

/** A host given as an address (IPv4 dotted quad or any IPv6 form), not a name. */
export function isIpLiteral(host: string): boolean {
  return host.includes(':') || isDottedQuad(host);
}

/**
 * Four non-empty runs of ASCII digits joined by three dots. Scanned by hand, one pass
 * (the host comes off the wire: no regex engine on packet data).
 */
function isDottedQuad(host: string): boolean {
  let dots = 0;
  let digits = 0;
  for (let i = 0; i < host.length; i++) {
    const c = host.charCodeAt(i);
    if (c >= 0x30 && c <= 0x39) { digits++; continue; }
    if (c !== 0x2e || digits === 0 || ++dots > 3) return false;
    digits = 0;
  }
  return dots === 3 && digits > 0;
}
