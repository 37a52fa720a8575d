/** HTTP/1.1 messages with JSON bodies (Keystone and nova-api as the nova client sees them). */
const enc = new TextEncoder();

function concat(head: string, body: Uint8Array): Uint8Array {
  const h = enc.encode(head);
  const out = new Uint8Array(h.length + body.length);
  out.set(h);
  out.set(body, h.length);
  return out;
}

export function httpRequest(method: string, path: string, host: string, headers: Record<string, string>, body?: unknown): Uint8Array {
  const b = body === undefined ? new Uint8Array(0) : enc.encode(JSON.stringify(body));
  let head = `${method} ${path} HTTP/1.1\r\nHost: ${host}\r\nUser-Agent: python-novaclient\r\nAccept-Encoding: gzip, deflate\r\nAccept: application/json\r\nConnection: keep-alive\r\n`;
  for (const [k, v] of Object.entries(headers)) head += `${k}: ${v}\r\n`;
  if (body !== undefined) head += `Content-Type: application/json\r\nContent-Length: ${b.length}\r\n`;
  return concat(`${head}\r\n`, b);
}

const REASONS: Record<number, string> = { 200: 'OK', 201: 'Created', 202: 'Accepted', 500: 'Internal Server Error' };

export function httpResponse(status: number, headers: Record<string, string>, body?: unknown, date = 'Wed, 25 Nov 2026 11:00:00 GMT'): Uint8Array {
  const b = body === undefined ? new Uint8Array(0) : enc.encode(JSON.stringify(body));
  let head = `HTTP/1.1 ${status} ${REASONS[status] ?? 'Status'}\r\nDate: ${date}\r\nServer: Apache/2.4.57 (Debian)\r\n`;
  for (const [k, v] of Object.entries(headers)) head += `${k}: ${v}\r\n`;
  head += `Content-Length: ${b.length}\r\n`;
  if (body !== undefined) head += 'Content-Type: application/json\r\n';
  return concat(`${head}\r\n`, b);
}
