import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { once } from 'node:events';
import { join } from 'node:path';
import { WebSocketServer, type WebSocket } from 'ws';
import { toNdjsonLine } from '../output/ndjson.js';
import { TokenCheck, type ListenAddress } from './auth.js';
import type { ServeCore } from './core.js';
import type { LoggedEvent } from './event-log.js';
import { packageRoot } from './package-root.js';
import { StreamClient } from './stream-client.js';

export interface HttpOptions {
  listen: ListenAddress;
  /** Required on every request when set. */
  token?: string;
  /** Unsent bytes a live-stream client may have before it is disconnected. */
  maxClientBuffer?: number;
  /** Live-stream clients at most (each costs at most maxClientBuffer). */
  maxClients?: number;
}

const DASHBOARD_FILES: Record<string, { file: string; type: string }> = {
  '/': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/app.js': { file: 'app.js', type: 'text/javascript; charset=utf-8' },
  '/style.css': { file: 'style.css', type: 'text/css; charset=utf-8' },
};
const CSP = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'";


function eventLine(e: LoggedEvent): string {
  return toNdjsonLine({ seq: e.seq, ...e.event });
}

/**
 * The HTTP side of `serve`: /metrics, the dashboard (static files + a WebSocket at
 * /ws), /api/migrations and the live NDJSON stream /api/events?since=SEQ.
 */
export class ServeHttp {
  private readonly server: Server;
  private readonly wss: WebSocketServer;
  private readonly tokenCheck: TokenCheck | undefined;
  private readonly files = new Map<string, { body: Buffer; type: string }>();
  private readonly maxBuffer: number;
  private readonly maxClients: number;
  private clients = 0;
  private readonly streams = new Set<{ buffered(): number }>();

  constructor(private readonly core: ServeCore, private readonly opts: HttpOptions) {
    this.tokenCheck = opts.token !== undefined ? new TokenCheck(opts.token) : undefined;
    this.maxBuffer = opts.maxClientBuffer ?? 1 << 20;
    this.maxClients = opts.maxClients ?? 64;
    const dir = join(packageRoot(), 'src', 'service', 'dashboard');
    for (const [path, f] of Object.entries(DASHBOARD_FILES)) this.files.set(path, { body: readFileSync(join(dir, f.file)), type: f.type });
    this.server = createServer({ requestTimeout: 30_000, headersTimeout: 10_000, maxHeaderSize: 8192 }, (req, res) => {
      this.handle(req, res).catch((err: unknown) => {
        if (!res.headersSent) this.plain(res, 500, `internal error: ${err instanceof Error ? err.message : String(err)}\n`);
        else res.destroy();
      });
    });
    this.wss = new WebSocketServer({ noServer: true, maxPayload: 4096 });
    this.server.on('upgrade', (req, socket, head) => {
      const url = this.url(req);
      if (url.pathname !== '/ws' || !this.authorised(req, url) || this.clients >= this.maxClients) {
        socket.end(`HTTP/1.1 ${url.pathname !== '/ws' ? '404 Not Found' : this.clients >= this.maxClients ? '503 Service Unavailable' : '401 Unauthorized'}\r\nConnection: close\r\n\r\n`);
        return;
      }
      this.wss.handleUpgrade(req, socket, head, (ws) => this.dashboardSocket(ws));
    });
  }

  async start(): Promise<ListenAddress> {
    this.server.listen(this.opts.listen.port, this.opts.listen.host);
    await once(this.server, 'listening');
    const a = this.server.address();
    return typeof a === 'object' && a !== null ? { host: a.address, port: a.port } : this.opts.listen;
  }

  async stop(): Promise<void> {
    for (const ws of this.wss.clients) ws.terminate();
    this.wss.close();
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeAllConnections();
    await closed;
  }

  private url(req: IncomingMessage): URL {
    return new URL(req.url ?? '/', 'http://migscope.invalid');
  }

  private authorised(req: IncomingMessage, url: URL): boolean {
    return this.tokenCheck === undefined || this.tokenCheck.matches(TokenCheck.presented(req.headers.authorization, url));
  }

  private plain(res: ServerResponse, status: number, body: string, headers: Record<string, string> = {}): void {
    res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store', ...headers });
    res.end(body);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = this.url(req);
    if (!this.authorised(req, url)) {
      this.plain(res, 401, 'unauthorized: this server needs Authorization: Bearer TOKEN\n', { 'www-authenticate': 'Bearer realm="migscope"' });
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      this.plain(res, 405, 'only GET\n', { allow: 'GET, HEAD' });
      return;
    }
    const file = this.files.get(url.pathname);
    if (file) {
      res.writeHead(200, { 'content-type': file.type, 'cache-control': 'no-cache', 'content-security-policy': CSP, 'x-content-type-options': 'nosniff' });
      res.end(req.method === 'HEAD' ? undefined : file.body);
      return;
    }
    switch (url.pathname) {
      case '/metrics': {
        const body = await this.core.metrics.registry.metrics();
        res.writeHead(200, { 'content-type': this.core.metrics.registry.contentType, 'cache-control': 'no-store' });
        res.end(body);
        return;
      }
      case '/api/migrations':
        res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' });
        res.end(toNdjsonLine(this.snapshot()));
        return;
      case '/api/measurement-points':
        res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' });
        res.end(toNdjsonLine({ reference: this.core.mps.reference ?? null, measurementPoints: this.core.mps.all() }));
        return;
      case '/api/events':
        await this.events(req, res, url);
        return;
      case '/healthz':
        this.plain(res, 200, 'ok\n');
        return;
      default:
        this.plain(res, 404, 'not found\n');
    }
  }

  snapshot(): { seq: number; now: bigint | undefined; migrations: unknown[] } {
    return { seq: this.core.log.lastSeq, now: this.core.clock.now(), migrations: this.core.board.all() };
  }

  /** NDJSON: the held events after `since`, then (unless follow=false) live ones. */
  private async events(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const sinceText = url.searchParams.get('since') ?? '0';
    if (!/^\d{1,15}$/.test(sinceText)) {
      this.plain(res, 400, 'since must be a sequence number (0 = everything held)\n');
      return;
    }
    const follow = url.searchParams.get('follow') !== 'false';
    if (follow && this.clients >= this.maxClients) {
      this.plain(res, 503, 'too many live clients\n');
      return;
    }
    const log = this.core.log;
    res.writeHead(200, { 'content-type': 'application/x-ndjson', 'cache-control': 'no-store', 'x-migscope-first-seq': String(log.firstSeq) });
    res.flushHeaders();
    req.socket.setKeepAlive(true, 30_000);
    let cursor = Number(sinceText);
    let gone = false;
    res.on('close', () => { gone = true; });
    // Catch up from the log (it keeps growing meanwhile), honouring the socket's pace.
    for (let first = true; !gone; first = false) {
      const batch = log.since(cursor);
      if (batch.length === 0) break;
      if (!first && batch[0]!.seq > cursor + 1) {
        // Fell behind the log while catching up: events are gone, so say so by closing.
        this.core.metrics.clientsDropped.inc({ endpoint: 'events', reason: 'behind-log' });
        res.destroy();
        return;
      }
      for (const e of batch) {
        cursor = e.seq;
        if (!res.write(eventLine(e)) && !gone) await once(res, 'drain').catch(() => undefined);
        if (gone) return;
      }
    }
    if (gone) return;
    if (!follow) {
      res.end();
      return;
    }
    const client = new StreamClient({
      out: { write: (t) => { res.write(t); }, buffered: () => res.writableLength, close: () => res.destroy() },
      format: eventLine, maxBuffered: this.maxBuffer,
      onDropped: () => this.core.metrics.clientsDropped.inc({ endpoint: 'events', reason: 'slow' }),
    });
    this.track('events', client, log.subscribe(client), (fn) => res.on('close', fn), { buffered: () => res.writableLength });
  }

  /** The dashboard's feed: a snapshot, then per event the event and its migration's whole view. */
  private dashboardSocket(ws: WebSocket): void {
    ws.send(toNdjsonLine({ type: 'snapshot', paced: this.core.paced, speed: this.core.speed, ...this.snapshot() }));
    const client = new StreamClient({
      out: { write: (t) => ws.send(t), buffered: () => ws.bufferedAmount, close: () => ws.terminate() },
      format: (e) => toNdjsonLine({ seq: e.seq, now: this.core.clock.now(), event: e.event, view: e.event.migration === '' ? undefined : this.core.board.get(e.event.migration) }),
      maxBuffered: this.maxBuffer,
      onDropped: () => this.core.metrics.clientsDropped.inc({ endpoint: 'ws', reason: 'slow' }),
    });
    ws.on('message', () => undefined);
    ws.on('error', () => ws.terminate());
    this.track('ws', client, this.core.log.subscribe(client), (fn) => ws.on('close', fn), { buffered: () => ws.bufferedAmount });
  }

  private track(endpoint: 'events' | 'ws', client: StreamClient, unsubscribe: () => void, onClose: (fn: () => void) => void,
    buffer: { buffered(): number }): void {
    this.clients++;
    this.streams.add(buffer);
    this.core.metrics.clients.inc({ endpoint });
    onClose(() => {
      this.streams.delete(buffer);
      client.gone();
      unsubscribe();
      this.clients--;
      this.core.metrics.clients.dec({ endpoint });
    });
  }

  get liveClients(): number { return this.clients; }

  /** Unsent bytes held for live-stream clients, all together (memory stays bounded). */
  bufferedBytes(): number {
    let n = 0;
    for (const c of this.streams) n += c.buffered();
    return n;
  }
}
