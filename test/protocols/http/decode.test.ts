import { describe, expect, it } from 'vitest';
import { HttpStreamDecoder } from '../../../src/protocols/http/decode.js';
import { httpAnalyzer } from '../../../src/protocols/http/index.js';
import type { Anomaly, HttpRequest, HttpResponse, ProtocolMessage } from '../../../src/protocols/types.js';
import { ascii, collecting, rechunk, run, testFlow, type Segment } from '../stream-helpers.js';
import { seededRandom } from '../../helpers/rng.js';

const authBody = '{"auth": {"identity": {"methods": ["password"]}, "scope": {"project": {"id": "p1"}}}}';
const migrateBody = '{"os-migrateLive": {"host": "dst-host", "block_migration": false}}';
const chunkedMigrate = `${(20).toString(16)}\r\n${migrateBody.slice(0, 20)}\r\n${(migrateBody.length - 20).toString(16)};ext=1\r\n${migrateBody.slice(20)}\r\n0\r\nX-Trailer: yes\r\n\r\n`;

/** A keystone + nova conversation on one keep-alive connection, with pipelining. */
const conversation: Segment[] = [
  { dir: 'c2s', ts: 1000n, bytes: ascii(`POST /v3/auth/tokens HTTP/1.1\r\nHost: keystone:5000\r\nContent-Type: application/json\r\nContent-Length: ${authBody.length}\r\n\r\n${authBody.slice(0, 30)}`) },
  { dir: 'c2s', ts: 2000n, bytes: ascii(authBody.slice(30)) },
  { dir: 's2c', ts: 3000n, bytes: ascii('HTTP/1.1 201 Created\r\nX-Subject-Token: gAAAAAB\r\nContent-Length: 5\r\n\r\n{"a":') },
  { dir: 'c2s', ts: 4000n, bytes: ascii(
    'GET /v2.1/servers/8e1c?details=1 HTTP/1.1\r\nHost: nova\r\n\r\n' +
    'HEAD /v2.1/ HTTP/1.1\r\n\r\n' +
    `POST /v2.1/servers/8e1c/action HTTP/1.1\r\ncontent-type: application/json; charset=utf-8\r\nTransfer-Encoding: chunked\r\n\r\n${chunkedMigrate}`) },
  { dir: 's2c', ts: 5000n, bytes: ascii(
    'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n' +
    'HTTP/1.1 200 OK\r\nContent-Length: 1234\r\n\r\n' +
    'HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 202 Accepted\r\nContent-Length: 0\r\n\r\n') },
  { dir: 'c2s', ts: 6000n, bytes: ascii('GET /x HTTP/1.1\r\nConnection: close\r\n\r\n') },
  { dir: 's2c', ts: 7000n, bytes: ascii('HTTP/1.1 200 OK\r\nConnection: close\r\n\r\npartial') },
  { dir: 's2c', ts: 8000n, bytes: ascii(' body') },
];
const ends = [{ dir: 's2c' as const, ts: 9000n }, { dir: 'c2s' as const, ts: 9001n }];

function decode(segments: Segment[]): ProtocolMessage[] {
  return run((e) => new HttpStreamDecoder(testFlow(5000), e), segments, ends);
}

describe('HTTP/1.1 stream decoder', () => {
  it('decodes keep-alive, pipelining, chunked bodies with trailers, HEAD, 100-continue and read-until-close', () => {
    const out = decode(conversation);
    const requests = out.filter((m): m is HttpRequest => m.protocol === 'http' && m.kind === 'request');
    const responses = out.filter((m): m is HttpResponse => m.protocol === 'http' && m.kind === 'response');
    expect(out.filter((m) => m.protocol === 'anomaly')).toEqual([]);
    expect(requests.map((r) => [r.method, r.path, r.ts, r.tsEnd, r.contentLength])).toEqual([
      ['POST', '/v3/auth/tokens', 1000n, 2000n, authBody.length],
      ['GET', '/v2.1/servers/8e1c', 4000n, 4000n, 0],
      ['HEAD', '/v2.1/', 4000n, 4000n, 0],
      ['POST', '/v2.1/servers/8e1c/action', 4000n, 4000n, migrateBody.length],
      ['GET', '/x', 6000n, 6000n, 0],
    ]);
    expect(requests[0]!.host).toBe('keystone:5000');
    expect(requests[0]!.jsonKeys).toEqual(['auth']);
    expect(requests[1]!.jsonKeys).toBeUndefined();
    expect(requests[3]!.jsonKeys).toEqual(['os-migrateLive']);
    expect(requests[3]!.migrateLiveHost).toBe('dst-host');
    expect(requests[0]!.src).toEqual({ ip: '10.0.0.1', port: 40000 });
    expect(responses.map((r) => [r.status, r.requestMethod, r.requestPath, r.requestTs, r.ts, r.tsEnd, r.contentLength])).toEqual([
      [201, 'POST', '/v3/auth/tokens', 1000n, 3000n, 3000n, 5],
      [200, 'GET', '/v2.1/servers/8e1c', 4000n, 5000n, 5000n, 5],
      [200, 'HEAD', '/v2.1/', 4000n, 5000n, 5000n, 0],
      [202, 'POST', '/v2.1/servers/8e1c/action', 4000n, 5000n, 5000n, 0],
      [200, 'GET', '/x', 6000n, 7000n, 9000n, 12],
    ]);
    expect(responses[0]!.subjectToken).toBe(true);
    expect(responses[1]!.subjectToken).toBeUndefined();
    expect(responses[0]!.src).toEqual({ ip: '10.0.0.2', port: 5000 });
  });

  it('gives identical messages for 1-byte and random chunking', () => {
    const whole = decode(conversation);
    expect(decode(rechunk(conversation, 'byte'))).toEqual(whole);
    for (let seed = 1; seed <= 20; seed++) expect(decode(rechunk(conversation, seededRandom(seed)))).toEqual(whole);
  });

  it('pairs 204/304 responses without a body and handles bare-LF lines', () => {
    const out = run((e) => new HttpStreamDecoder(testFlow(8774), e), [
      { dir: 'c2s', ts: 1n, bytes: ascii('DELETE /a HTTP/1.1\nHost: h\n\nGET /b HTTP/1.1\r\n\r\n') },
      { dir: 's2c', ts: 2n, bytes: ascii('HTTP/1.1 204 No Content\r\nContent-Length: 10\r\n\r\nHTTP/1.1 304 Not Modified\r\n\r\n') },
    ]);
    expect(out.map((m) => m.protocol === 'http' && m.kind === 'response' ? [m.status, m.requestPath] : m.protocol === 'http' ? m.path : m.protocol))
      .toEqual(['/a', '/b', [204, '/a'], [304, '/b']]);
  });

  it('turns garbage into anomalies and resynchronises on the next start line', () => {
    const out = run((e) => new HttpStreamDecoder(testFlow(80), e), [
      { dir: 'c2s', ts: 1n, bytes: ascii('\x00\x01garbage line\r\nmore junk\r\nGET /ok HTTP/1.1\r\n\r\n') },
      { dir: 'c2s', ts: 2n, bytes: ascii('POST /p HTTP/1.1\r\nContent-Length: 12x\r\n\r\nGET /after HTTP/1.1\r\n\r\n') },
      { dir: 's2c', ts: 3n, bytes: ascii('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n') },
    ], [{ dir: 's2c', ts: 4n }]);
    const anomalies = out.filter((m): m is Anomaly => m.protocol === 'anomaly');
    expect(anomalies.map((a) => a.code)).toEqual(['HTTP_BAD_START_LINE', 'HTTP_BAD_CONTENT_LENGTH', 'HTTP_BAD_CHUNK_SIZE']);
    expect(anomalies.every((a) => a.kind === 'protocol-error' && a.count === 1)).toBe(true);
    expect(out.filter((m) => m.protocol === 'http').map((m) => m.protocol === 'http' && m.kind === 'request' ? m.path : '')).toEqual(['/ok', '/after']);
  });

  it('skips a gap inside a Content-Length body and resyncs after a gap in a head', () => {
    const { decoder: d, out } = collecting((e) => new HttpStreamDecoder(testFlow(80), e));
    d.data('c2s', ascii('PUT /big HTTP/1.1\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"a":'), 1n);
    d.gap('c2s', 90, 2n);
    d.data('c2s', ascii('12345GET /next HTTP/1.1\r\nHo'), 3n);
    d.gap('c2s', 10, 4n);
    d.data('c2s', ascii('st: x\r\n\r\nGET /again HTTP/1.1\r\n\r\n'), 5n);
    expect(out.map((m) => m.protocol === 'http' && m.kind === 'request' ? [m.path, m.contentLength, m.jsonKeys, m.tsEnd] : [m.protocol])).toEqual([
      ['/big', 100, undefined, 3n],
      ['anomaly'],
      ['/again', 0, undefined, 5n],
    ]);
  });

  it('stops at a line longer than the bound without holding it', () => {
    const { decoder: d, out } = collecting((e) => new HttpStreamDecoder(testFlow(80), e));
    d.data('c2s', ascii('GET /a HTTP/1.1\r\nX-Long: '), 1n);
    const chunk = new Uint8Array(16384).fill(0x61);
    for (let i = 0; i < 10; i++) d.data('c2s', chunk, 2n);
    d.data('c2s', ascii('\r\n\r\nGET /b HTTP/1.1\r\n\r\n'), 3n);
    expect(out.map((m) => m.protocol === 'anomaly' ? [m.code, m.fields] : m.protocol === 'http' && m.kind === 'request' ? m.path : '')).toEqual([
      ['HTTP_LINE_TOO_LONG', { limit: 65536 }], '/b',
    ]);
  });

  it('probes request lines only', () => {
    const flow = testFlow(5000);
    expect(httpAnalyzer.probe(ascii('POST /v3/auth/tokens HTTP/1.1\r\n'), flow)).toBe(true);
    expect(httpAnalyzer.probe(ascii('GET http://x/ HTTP/1.1'), flow)).toBe(true);
    expect(httpAnalyzer.probe(ascii('AMQP\x00\x00\x09\x01'), flow)).toBe(false);
    expect(httpAnalyzer.probe(ascii('GETX / HTTP/1.1'), flow)).toBe(false);
    expect(httpAnalyzer.probe(ascii('GET '), flow)).toBe(false);
  });
});
