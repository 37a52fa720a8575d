/**
 * HTTP/1.x start lines, header tokens and chunk sizes, scanned by hand in one pass: they come off the
 * wire, and no regex engine (a backtracking one in V8) runs on packet data.
 */

/** What JavaScript's `\s` matches: the head is decoded as latin1, the rest is for safety. */
export function isSpace(c: number): boolean {
  return (c >= 0x09 && c <= 0x0d) || c === 0x20 || c === 0xa0 || c === 0x1680 || (c >= 0x2000 && c <= 0x200a)
    || c === 0x2028 || c === 0x2029 || c === 0x202f || c === 0x205f || c === 0x3000 || c === 0xfeff;
}

export function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

export function isAsciiAlpha(c: number): boolean {
  return (c | 0x20) >= 0x61 && (c | 0x20) <= 0x7a;
}

/** RFC 9110 tchar: the characters of a method token. */
function isTchar(c: number): boolean {
  if (isDigit(c) || isAsciiAlpha(c)) return true;
  switch (c) {
    case 0x21: case 0x23: case 0x24: case 0x25: case 0x26: case 0x27: case 0x2a: case 0x2b:
    case 0x2d: case 0x2e: case 0x5e: case 0x5f: case 0x60: case 0x7c: case 0x7e:
      return true;
    default:
      return false;
  }
}

const MAX_METHOD = 32;
const MAX_TARGET = 65_535;
const VERSION_PREFIX = 'HTTP/1.';

export interface RequestLine { method: string; target: string; minor: number }
export interface StatusLine { minor: number; status: number }

/** `METHOD SP target SP HTTP/1.d`, the whole line; null when it is not one. */
export function scanRequestLine(line: string): RequestLine | null {
  let i = 0;
  while (i < line.length && i <= MAX_METHOD && isTchar(line.charCodeAt(i))) i++;
  if (i === 0 || i > MAX_METHOD || line.charCodeAt(i) !== 0x20) return null;
  const targetAt = i + 1;
  let j = targetAt;
  while (j < line.length && !isSpace(line.charCodeAt(j))) j++;
  const targetLength = j - targetAt;
  if (targetLength === 0 || targetLength > MAX_TARGET) return null;
  // Then exactly " HTTP/1.d" and the end of the line.
  if (line.length !== j + 2 + VERSION_PREFIX.length || line.charCodeAt(j) !== 0x20) return null;
  if (!line.startsWith(VERSION_PREFIX, j + 1)) return null;
  const minor = line.charCodeAt(line.length - 1);
  if (!isDigit(minor)) return null;
  return { method: line.slice(0, i), target: line.slice(targetAt, j), minor: minor - 0x30 };
}

/** `HTTP/1.d SP ddd [SP reason]` (a reason without line breaks); null when it is not one. */
export function scanStatusLine(line: string): StatusLine | null {
  const p = VERSION_PREFIX.length;
  if (!line.startsWith(VERSION_PREFIX) || !isDigit(line.charCodeAt(p)) || line.charCodeAt(p + 1) !== 0x20) return null;
  for (let k = p + 2; k < p + 5; k++) if (!isDigit(line.charCodeAt(k))) return null;
  const end = p + 5;
  if (line.length > end) {
    if (line.charCodeAt(end) !== 0x20) return null;
    for (let k = end + 1; k < line.length; k++) {
      const c = line.charCodeAt(k);
      if (c === 0x0a || c === 0x0d || c === 0x2028 || c === 0x2029) return null;
    }
  }
  return { minor: line.charCodeAt(p) - 0x30, status: Number(line.slice(p + 2, end)) };
}

/** 1 to 15 ASCII digits and nothing else (a Content-Length we accept). */
export function isDecimal15(value: string): boolean {
  if (value.length === 0 || value.length > 15) return false;
  for (let i = 0; i < value.length; i++) if (!isDigit(value.charCodeAt(i))) return false;
  return true;
}

/** Whether any character of `s` is whitespace. */
export function hasSpace(s: string): boolean {
  for (let i = 0; i < s.length; i++) if (isSpace(s.charCodeAt(i))) return true;
  return false;
}

/** 1 to 12 hex digits and nothing else (a chunk size we accept). */
export function isHex12(value: string): boolean {
  if (value.length === 0 || value.length > 12) return false;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (!isDigit(c) && !((c | 0x20) >= 0x61 && (c | 0x20) <= 0x66)) return false;
  }
  return true;
}
