import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { Agent, createServer, request, type Server } from 'node:http';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HttpRequest, HttpResponse, ProtocolMessage } from '../../../src/protocols/types.js';
import { decodeCaptureFile } from '../../real/harness/decode-capture.js';
import { freePort, realPeerBlocker, startTcpdump, type TcpdumpCapture } from '../../real/harness/processes.js';
import { epochToPicos } from '../../real/harness/tshark-streams.js';

/**
 * node:http server and client on 127.0.0.1, captured with tcpdump: keep-alive requests
 * on one connection, a chunked response, JSON POSTs, HEAD, and an HTTP/1.0 response read
 * until close. tshark's HTTP dissector is the independent reference.
 */
const blocker = realPeerBlocker(['tcpdump', 'tshark']);
if (blocker !== null && process.env.CI !== 'true') console.log(`skipping node:http capture test: ${blocker}`);

function send(agent: Agent, port: number, method: string, path: string, body?: object): Promise<number> {
  return new Promise((resolve, reject) => {
    const data = body === undefined ? undefined : JSON.stringify(body);
    const req = request({ host: '127.0.0.1', port, method, path, agent, headers: data === undefined ? {} : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(data) } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.setTimeout(5000, () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end(data);
  });
}

/** An HTTP/1.0 request on a raw socket: the response has no length and ends with the connection. */
function http10(port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const s = connect(port, '127.0.0.1', () => s.write('GET /legacy HTTP/1.0\r\nHost: x\r\n\r\n'));
    s.setTimeout(5000, () => s.destroy(new Error('timeout')));
    s.on('data', () => {});
    s.on('end', () => { s.end(); resolve(); });
    s.on('error', reject);
  });
}

describe.runIf(blocker === null || process.env.CI === 'true')('HTTP decoder on a real node:http capture', () => {
  let dir = '';
  let port = 0;
  let server: Server | null = null;
  let capture: TcpdumpCapture | null = null;
  let messages: ProtocolMessage[] = [];

  beforeAll(async () => {
    if (blocker !== null) throw new Error(`cannot run: ${blocker}`);
    dir = mkdtempSync(join(tmpdir(), 'migscope-http-'));
    port = await freePort();
    capture = await startTcpdump(join(dir, 'http.pcap'), `tcp port ${port}`);
    server = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        if (req.url === '/v3/auth/tokens') {
          res.writeHead(201, { 'X-Subject-Token': 'gAAAAABtoken', 'Content-Type': 'application/json' });
          res.end(JSON.stringify({ token: { expires_at: 'x' } }));
        } else if (req.url?.startsWith('/v2.1/servers/abc?')) {
          res.writeHead(200, { 'Content-Type': 'application/json' }); // no length: chunked
          res.write('{"server": ');
          setTimeout(() => { res.write('{"id": "abc"}'); res.end('}'); }, 20);
        } else if (req.url === '/v2.1/servers/abc/action') {
          res.writeHead(202); res.end();
        } else if (req.url === '/legacy') {
          res.writeHead(200, { 'Content-Type': 'text/plain' }); res.end('until close');
        } else {
          res.writeHead(200, { 'Content-Length': '42' }); res.end(req.method === 'HEAD' ? undefined : 'x'.repeat(42));
        }
      });
    });
    await new Promise<void>((r) => server!.listen(port, '127.0.0.1', r));
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const statuses = [
      await send(agent, port, 'POST', '/v3/auth/tokens', { auth: { identity: { methods: ['password'] } } }),
      await send(agent, port, 'GET', '/v2.1/servers/abc?details=1'),
      await send(agent, port, 'POST', '/v2.1/servers/abc/action', { 'os-migrateLive': { host: 'dst-host', block_migration: 'auto' } }),
      await send(agent, port, 'HEAD', '/v2.1/'),
      await send(agent, port, 'GET', '/v2.1/'),
    ];
    expect(statuses).toEqual([201, 200, 202, 200, 200]);
    agent.destroy();
    await http10(port);
    await new Promise<void>((r) => server!.close(() => r()));
    server = null;
    await new Promise((r) => setTimeout(r, 200));
    await capture.stop();
    capture = null;
    messages = await decodeCaptureFile(join(dir, 'http.pcap'));
  }, 60_000);

  afterAll(async () => {
    server?.close();
    await capture?.stop();
    if (dir !== '' && process.env.H5_KEEP === undefined) rmSync(dir, { recursive: true, force: true });
  });

  it("matches tshark's method, URI and status for every message, at the frame that completes it", () => {
    const out = execFileSync('tshark', ['-r', join(dir, 'http.pcap'), '-d', `tcp.port==${port},http`, '-Y', 'http.request || http.response',
      '-T', 'fields', '-e', 'frame.time_epoch', '-e', 'http.request.method', '-e', 'http.request.uri', '-e', 'http.response.code'],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 30_000 });
    const fromTshark = out.split('\n').filter((l) => l !== '').map((l) => {
      const [epoch, method, uri, code] = l.split('\t') as [string, string, string, string];
      const ts = epochToPicos(epoch);
      return method !== '' ? `request ${method} ${uri.split('?')[0]} ${ts}` : `response ${code} ${ts}`;
    });
    const ours = messages.filter((m): m is HttpRequest | HttpResponse => m.protocol === 'http')
      .map((m) => (m.kind === 'request' ? `request ${m.method} ${m.path} ${m.tsEnd}` : `response ${m.status} ${m.tsEnd}`));
    expect(ours.length).toBe(12);
    expect([...ours].sort()).toEqual([...fromTshark].sort());
    expect(messages.filter((m) => m.protocol === 'anomaly' && m.code.startsWith('HTTP_'))).toEqual([]);
  });

  it('pairs responses with their requests and extracts keystone/nova facts', () => {
    const http = messages.filter((m): m is HttpRequest | HttpResponse => m.protocol === 'http');
    const responses = http.filter((m): m is HttpResponse => m.kind === 'response');
    expect(responses.map((r) => [r.requestMethod, r.requestPath, r.status, r.contentLength])).toEqual([
      ['POST', '/v3/auth/tokens', 201, JSON.stringify({ token: { expires_at: 'x' } }).length],
      ['GET', '/v2.1/servers/abc', 200, '{"server": {"id": "abc"}}'.length],
      ['POST', '/v2.1/servers/abc/action', 202, 0],
      ['HEAD', '/v2.1/', 200, 0],
      ['GET', '/v2.1/', 200, 42],
      ['GET', '/legacy', 200, 'until close'.length],
    ]);
    expect(responses[0]!.subjectToken).toBe(true);
    const requests = http.filter((m): m is HttpRequest => m.kind === 'request');
    expect(requests[0]!.jsonKeys).toEqual(['auth']);
    expect(requests[2]!.jsonKeys).toEqual(['os-migrateLive']);
    expect(requests[2]!.migrateLiveHost).toBe('dst-host');
    for (const r of responses) expect(r.requestTs).toBe(requests.find((q) => q.path === r.requestPath && q.method === r.requestMethod)!.ts);
  });
});
