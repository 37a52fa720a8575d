/**
 * Access and client handling of `serve`: a non-loopback bind needs a token (or
 * --insecure); with a token every request needs it (401 otherwise, also for the
 * WebSocket); a client that stops reading is disconnected once its unsent bytes pass
 * the bound, and one that vanishes is forgotten, so neither grows the server's memory.
 */
import { execFile } from 'node:child_process';
import { connect } from 'node:net';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { checkBind, isLoopback, parseListen, TokenCheck } from '../../src/service/auth.js';
import { ItemQueue } from '../../src/service/items.js';
import { Service } from '../../src/service/service.js';
import type { PhaseEvent } from '../../src/phases/events.js';
import { cli } from './helpers.js';

const exec = promisify(execFile);
const TOKEN = 'a-test-token-0123456789abcdef';

let service: Service | undefined;
afterEach(async () => { await service?.stop(); service = undefined; });

async function start(opts: Partial<ConstructorParameters<typeof Service>[0]> = {}): Promise<string> {
  service = new Service({ listen: { host: '127.0.0.1', port: 0 }, version: 'test', stallAfterSeconds: 30, paced: false, ...opts });
  const a = await service.start();
  return `http://127.0.0.1:${a.port}`;
}

function anomaly(i: number): PhaseEvent {
  // ~1 KB per event: the reason is the filler.
  return { type: 'anomaly', migration: '', ts: BigInt(i) * 1_000_000n, kind: 'protocol-error', code: 'TEST_FILLER', count: 1, reason: `event ${i} ${'x'.repeat(1000)}` };
}

describe('serve: bind address and token', () => {
  it('parses and classifies listen addresses', () => {
    expect(parseListen('127.0.0.1:9470')).toEqual({ host: '127.0.0.1', port: 9470 });
    expect(parseListen('[::1]:80')).toEqual({ host: '::1', port: 80 });
    expect(() => parseListen('9470')).toThrow(/HOST:PORT/);
    expect(() => parseListen('a:99999')).toThrow(/HOST:PORT/);
    for (const h of ['127.0.0.1', '127.9.9.9', '::1', 'localhost', '0:0:0:0:0:0:0:1']) expect(isLoopback(h), h).toBe(true);
    for (const h of ['0.0.0.0', '::', '10.0.0.1', 'example.org', '128.0.0.1']) expect(isLoopback(h), h).toBe(false);
    expect(() => checkBind({ host: '0.0.0.0', port: 1 }, undefined, false)).toThrow(/--token/);
    expect(() => checkBind({ host: '0.0.0.0', port: 1 }, TOKEN, false)).not.toThrow();
    expect(() => checkBind({ host: '0.0.0.0', port: 1 }, undefined, true)).not.toThrow();
  });

  it('the CLI refuses a non-loopback bind without a token, in one line, exit 2', async () => {
    const err = await exec('node', [cli, 'serve', '--demo', '--listen', '0.0.0.0:0'], { timeout: 30_000 }).catch((e: { code: number; stderr: string }) => e);
    expect(err).toMatchObject({ code: 2 });
    expect((err as { stderr: string }).stderr).toMatch(/^migscope serve: --listen 0\.0\.0\.0 is reachable from the network: give --token/);
    expect((err as { stderr: string }).stderr.split('\n')).toHaveLength(2);
  });

  it('checks the bearer token on every request and on the WebSocket', async () => {
    const url = await start({ token: TOKEN });
    for (const path of ['/metrics', '/', '/api/migrations', '/api/events?follow=false', '/app.js', '/nope']) {
      expect((await fetch(url + path)).status, `${path} without token`).toBe(401);
      expect((await fetch(url + path, { headers: { authorization: `Bearer ${TOKEN}x` } })).status, `${path} wrong token`).toBe(401);
      expect((await fetch(url + path, { headers: { authorization: `Basic ${TOKEN}` } })).status, `${path} other scheme`).toBe(401);
    }
    const ok = await fetch(`${url}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(ok.status).toBe(200);
    expect(await ok.text()).toMatch(/^migscope_build_info\{version="test",nodejs="[^"]+"\} 1$/m);
    expect((await fetch(`${url}/?access_token=${TOKEN}`)).status).toBe(200);
    const ws = (q: string): Promise<string> => new Promise((res) => {
      const s = new WebSocket(`${url.replace('http', 'ws')}/ws${q}`);
      s.on('message', (m) => { res(`message ${String(m).slice(0, 19)}`); s.close(); });
      s.on('unexpected-response', (_req, r) => res(`status ${r.statusCode}`));
      s.on('error', (e) => res(`error ${e.message}`));
    });
    expect(await ws('')).toBe('status 401');
    expect(await ws('?access_token=wrong-token-0123456789')).toBe('status 401');
    expect(await ws(`?access_token=${TOKEN}`)).toBe('message {"type":"snapshot",');
    expect(new TokenCheck(TOKEN).matches(undefined)).toBe(false);
    expect(() => new TokenCheck('short')).toThrow(/16 characters/);
  });
});

describe('serve: live-stream clients', () => {
  it('a client that stops reading is disconnected at the bound; a vanished one is forgotten', async () => {
    const maxClientBuffer = 64 << 10;
    const url = await start({ maxClientBuffer });
    const port = Number(new URL(url).port);
    const queue = new ItemQueue();
    const fed = service!.consume(queue);

    // A reader that never reads after the headers.
    const stalled = connect(port, '127.0.0.1');
    stalled.write('GET /api/events?since=0 HTTP/1.1\r\nHost: x\r\n\r\n');
    await new Promise((r) => stalled.once('data', r));
    stalled.pause();
    // A client that vanishes.
    const vanished = connect(port, '127.0.0.1');
    vanished.write('GET /api/events HTTP/1.1\r\nHost: x\r\n\r\n');
    await new Promise((r) => vanished.once('data', r));
    expect(service!.http.liveClients).toBe(2);
    vanished.destroy();
    for (let i = 0; i < 100 && service!.http.liveClients > 1; i++) await new Promise((r) => setTimeout(r, 20));
    expect(service!.http.liveClients, 'the vanished client is forgotten').toBe(1);

    const http = service!.http;
    let maxBuffered = 0;
    // 40 MB of events: far beyond kernel socket buffers and the client bound.
    for (let i = 0; i < 40_000; i++) {
      queue.push({ kind: 'event', event: anomaly(i) });
      if (i % 500 === 0) {
        await new Promise((r) => setImmediate(r));
        maxBuffered = Math.max(maxBuffered, http.bufferedBytes());
      }
    }
    queue.end();
    await fed;
    await new Promise((r) => setTimeout(r, 100));
    expect(http.liveClients).toBe(0);
    expect(service!.core.log.subscriberCount).toBe(0);
    // Never more than the bound plus the one event that crossed it.
    expect(maxBuffered).toBeLessThanOrEqual(maxClientBuffer + 2048);
    const metrics = await (await fetch(`${url}/metrics`)).text();
    expect(metrics).toMatch(/^migscope_http_stream_clients_dropped_total\{endpoint="events",reason="slow"\} 1$/m);
    expect(metrics).toMatch(/^migscope_http_stream_clients\{endpoint="events"\} 0$/m);
    expect(metrics).toMatch(/^migscope_anomalies_total\{kind="protocol-error"\} 40000$/m);
    stalled.destroy();

    // The log holds only its capacity; a new client resumes from a cursor.
    const resumed = await (await fetch(`${url}/api/events?since=39990&follow=false`)).text();
    expect(resumed.trim().split('\n').map((l) => (JSON.parse(l) as { seq: number }).seq)).toEqual([39991, 39992, 39993, 39994, 39995, 39996, 39997, 39998, 39999, 40000]);
    const first = await fetch(`${url}/api/events?since=0&follow=false`);
    expect(first.headers.get('x-migscope-first-seq')).toBe(String(40_000 - service!.core.log.capacity + 1));
    await first.body?.cancel();
  }, 60_000);
});
