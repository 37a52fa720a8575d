/**
 * Headless Chromium driven over the DevTools protocol with the `ws` client: enough to
 * load a page, evaluate expressions in it while it runs, and take a screenshot.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';

export const CHROMIUM = '/usr/bin/chromium';

export class HeadlessPage {
  private nextId = 1;
  private readonly pending = new Map<number, { res: (v: unknown) => void; rej: (e: Error) => void }>();

  private constructor(private readonly proc: ChildProcess, private readonly ws: WebSocket, private readonly profile: string) {
    ws.on('message', (data) => {
      const msg = JSON.parse(String(data)) as { id?: number; result?: unknown; error?: { message: string } };
      if (msg.id === undefined) return;
      const p = this.pending.get(msg.id);
      if (!p) return;
      this.pending.delete(msg.id);
      if (msg.error) p.rej(new Error(msg.error.message));
      else p.res(msg.result);
    });
  }

  /** Chromium on about:blank; `navigate` loads the page (start it first: it takes seconds). */
  static async open(width = 1200, height = 900): Promise<HeadlessPage> {
    const profile = mkdtempSync(join(tmpdir(), 'migscope-chromium-'));
    const proc = spawn(CHROMIUM, [
      '--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
      '--disable-sync', '--no-first-run', '--hide-scrollbars', '--force-device-scale-factor=1',
      `--window-size=${width},${height}`, `--user-data-dir=${profile}`, '--remote-debugging-address=127.0.0.1',
      '--remote-debugging-port=0', 'about:blank',
    ], { stdio: 'ignore' });
    const portFile = join(profile, 'DevToolsActivePort');
    let port = 0;
    for (let i = 0; i < 300 && port === 0; i++) {
      if (existsSync(portFile)) port = Number(readFileSync(portFile, 'utf8').split('\n')[0]);
      if (port === 0) await new Promise((r) => setTimeout(r, 100));
    }
    if (!port) throw new Error('Chromium did not open its DevTools port');
    let page: { type: string; webSocketDebuggerUrl: string } | undefined;
    for (let i = 0; i < 50 && !page; i++) {
      const list = await fetch(`http://127.0.0.1:${port}/json/list`).then((r) => r.json() as Promise<{ type: string; webSocketDebuggerUrl: string }[]>, () => []);
      page = list.find((t) => t.type === 'page');
      if (!page) await new Promise((r) => setTimeout(r, 100));
    }
    if (!page) throw new Error('no page target in Chromium');
    const ws = new WebSocket(page.webSocketDebuggerUrl, { perMessageDeflate: false, maxPayload: 256 << 20 });
    await new Promise((res, rej) => { ws.once('open', res); ws.once('error', rej); });
    const p = new HeadlessPage(proc, ws, profile);
    await p.send('Page.enable');
    return p;
  }

  /** Loads `url`; `earlyScript` runs in it before the page's own scripts. */
  async navigate(url: string, earlyScript?: string): Promise<void> {
    if (earlyScript !== undefined) await this.send('Page.addScriptToEvaluateOnNewDocument', { source: earlyScript });
    await this.send('Page.navigate', { url });
  }

  send(method: string, params: Record<string, unknown> = {}): Promise<unknown> {
    const id = this.nextId++;
    return new Promise((res, rej) => {
      this.pending.set(id, { res, rej });
      this.ws.send(JSON.stringify({ id, method, params }));
    });
  }

  /** Evaluates `expression` in the page; the value must be JSON-serialisable. */
  async evaluate<T>(expression: string): Promise<T> {
    const r = await this.send('Runtime.evaluate', { expression, returnByValue: true }) as { result: { value: T }; exceptionDetails?: { text: string } };
    if (r.exceptionDetails) throw new Error(`page: ${r.exceptionDetails.text}`);
    return r.result.value;
  }

  async screenshot(): Promise<Buffer> {
    const r = await this.send('Page.captureScreenshot', { format: 'png', captureBeyondViewport: true }) as { data: string };
    return Buffer.from(r.data, 'base64');
  }

  async close(): Promise<void> {
    this.ws.close();
    if (this.proc.exitCode === null) {
      this.proc.kill('SIGTERM');
      await new Promise((r) => this.proc.once('exit', r));
    }
    // Chromium's helper processes (crashpad, a renderer) can still write to the profile
    // for a moment after the browser process exits: retry the removal (bounded).
    rmSync(this.profile, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 });
  }
}
