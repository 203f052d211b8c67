// Chromium driven over raw DevTools WebSockets, for page lifecycle tests. `Page.setWebLifecycleState`
// has no effect on a page that playwright-core drives (measured: a 100 ms timer kept ticking
// through a 3 s "freeze", over playwright's CDP session and over a raw connection to a
// Playwright-launched browser alike), so these tests launch Chromium themselves with
// `--remote-debugging-port=0`, read the port from its stderr and talk to each page target.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { CHROMIUM_ARGS, CHROMIUM_PATH } from './chromium-flags.js';

/** A raw DevTools connection to one page target. */
export interface RawPage {
  readonly url: string;
  send(method: string, params?: Record<string, unknown>, timeoutMs?: number): Promise<unknown>;
  /** Evaluates `expression` in the page (awaiting a promise) and returns its JSON value. */
  evaluate<T>(expression: string, timeoutMs?: number): Promise<T>;
  close(): void;
}

export interface RawChromium {
  readonly port: number;
  /** Opens a tab at `url` in the default profile (tabs share IndexedDB and Web Locks). */
  open(url: string): Promise<RawPage>;
  close(): Promise<void>;
}

export async function launchRawChromium(): Promise<RawChromium> {
  const profile = await mkdtemp(join(tmpdir(), 'syncline-raw-chromium-'));
  const proc: ChildProcess = spawn(
    CHROMIUM_PATH,
    [
      ...CHROMIUM_ARGS,
      // Playwright passes these too; without them a page resumed from frozen may stay idle.
      '--disable-renderer-backgrounding',
      '--disable-background-timer-throttling',
      '--disable-backgrounding-occluded-windows',
      '--remote-debugging-port=0',
      `--user-data-dir=${profile}`,
      'about:blank',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  const port = await new Promise<number>((resolve, reject) => {
    let text = '';
    const timer = setTimeout(() => reject(new Error(`Chromium printed no DevTools port: ${text}`)), 30_000);
    proc.once('exit', (code) => reject(new Error(`Chromium exited (${code}): ${text}`)));
    proc.stderr!.on('data', (chunk: Buffer) => {
      text += chunk.toString();
      const match = /DevTools listening on ws:\/\/[^:]+:(\d+)\//.exec(text);
      if (match) {
        clearTimeout(timer);
        resolve(Number(match[1]));
      }
    });
  });
  const pages: RawPage[] = [];
  return {
    port,
    open: async (url) => {
      const res = await fetch(`http://127.0.0.1:${port}/json/new?${encodeURI(url)}`, { method: 'PUT' });
      const target = (await res.json()) as { webSocketDebuggerUrl: string };
      const page = await connect(target.webSocketDebuggerUrl, url);
      pages.push(page);
      return page;
    },
    close: async () => {
      for (const page of pages) page.close();
      const exited = new Promise((r) => proc.once('exit', r));
      proc.kill();
      await exited;
      await rm(profile, { recursive: true, force: true });
    },
  };
}

async function connect(wsUrl: string, url: string): Promise<RawPage> {
  const ws = new WebSocket(wsUrl);
  await new Promise<void>((resolve, reject) => {
    ws.once('error', reject);
    ws.once('open', () => resolve());
  });
  const waiting = new Map<number, (msg: { result?: unknown; error?: { message: string } }) => void>();
  ws.on('message', (data: Buffer) => {
    const msg = JSON.parse(data.toString()) as { id?: number; result?: unknown; error?: { message: string } };
    if (msg.id === undefined) return;
    waiting.get(msg.id)?.(msg);
    waiting.delete(msg.id);
  });
  let ids = 0;
  const send = (method: string, params: Record<string, unknown> = {}, timeoutMs = 10_000) => {
    const id = ++ids;
    return new Promise<unknown>((resolve, reject) => {
      const timer = setTimeout(() => {
        waiting.delete(id);
        reject(new Error(`${method}: no answer in ${timeoutMs} ms`));
      }, timeoutMs);
      waiting.set(id, (msg) => {
        clearTimeout(timer);
        if (msg.error !== undefined) reject(new Error(`${method}: ${msg.error.message}`));
        else resolve(msg.result);
      });
      ws.send(JSON.stringify({ id, method, params }));
    });
  };
  return {
    url,
    send,
    evaluate: async <T>(expression: string, timeoutMs?: number) => {
      const r = (await send(
        'Runtime.evaluate',
        { expression, awaitPromise: true, returnByValue: true },
        timeoutMs,
      ).catch((error: Error) => {
        throw new Error(`${error.message} (${url}: ${expression.slice(0, 80)})`);
      })) as {
        result: { value?: unknown };
        exceptionDetails?: { text: string; exception?: { description?: string } };
      };
      if (r.exceptionDetails)
        throw new Error(r.exceptionDetails.exception?.description ?? r.exceptionDetails.text);
      return r.result.value as T;
    },
    close: () => ws.close(),
  };
}
