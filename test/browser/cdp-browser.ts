import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { freePort } from '@syncline/test-support';
import { CHROMIUM_ARGS, CHROMIUM_PATH } from './chromium-flags.js';

interface CdpReply {
  id?: number;
  result?: Record<string, unknown>;
  error?: { message: string };
}

/**
 * One tab driven over its own raw CDP connection. Playwright is not used for the chaos tabs:
 * with Playwright attached to a page (launched by it or through `connectOverCDP`),
 * `Page.setWebLifecycleState frozen` has no effect and a "frozen" tab goes on running.
 */
export class CdpPage {
  #nextId = 1;

  private constructor(
    private readonly ws: WebSocket,
    private readonly targetId: string,
    private readonly endpoint: string,
  ) {}

  static async attach(endpoint: string, targetId: string, wsUrl: string): Promise<CdpPage> {
    const ws = new WebSocket(wsUrl, { perMessageDeflate: false });
    ws.on('error', () => undefined);
    await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
    return new CdpPage(ws, targetId, endpoint);
  }

  /** One CDP command on this tab's connection. */
  send(method: string, params: object = {}): Promise<Record<string, unknown>> {
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      const onMessage = (data: Buffer) => {
        const msg = JSON.parse(data.toString()) as CdpReply;
        if (msg.id !== id) return;
        this.ws.off('message', onMessage);
        this.ws.off('close', onClose);
        if (msg.error) reject(new Error(`${method}: ${msg.error.message}`));
        else resolve(msg.result ?? {});
      };
      const onClose = () => reject(new Error(`${method}: the tab's CDP connection closed`));
      this.ws.on('message', onMessage);
      this.ws.once('close', onClose);
      this.ws.send(JSON.stringify({ id, method, params }));
    });
  }

  /** Resolves at the tab's next `Debugger.paused` event (its Debugger domain must be enabled). */
  nextPause(): Promise<void> {
    return new Promise((resolve) => {
      const onMessage = (data: Buffer) => {
        if ((JSON.parse(data.toString()) as { method?: string }).method !== 'Debugger.paused') return;
        this.ws.off('message', onMessage);
        resolve();
      };
      this.ws.on('message', onMessage);
    });
  }

  /** Runs `fn(arg)` in the page and returns its (awaited, JSON-serializable) result. */
  async evaluate<R, A = undefined>(fn: (arg: A) => R | Promise<R>, arg?: A): Promise<R> {
    const res = (await this.send('Runtime.evaluate', {
      expression: `(${fn.toString()})(${arg === undefined ? '' : JSON.stringify(arg)})`,
      awaitPromise: true,
      returnByValue: true,
    })) as {
      result?: { value?: unknown };
      exceptionDetails?: { text: string; exception?: { description?: string } };
    };
    if (res.exceptionDetails)
      throw new Error(res.exceptionDetails.exception?.description ?? res.exceptionDetails.text);
    return res.result?.value as R;
  }

  /** Polls `window.__result` until the page set it. */
  async waitForResult<T>(timeoutMs: number): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const v = await this.evaluate(() => (window as unknown as { __result?: unknown }).__result ?? null);
      if (v !== null) return v as T;
      if (Date.now() > deadline) throw new Error(`window.__result not set within ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** `Page.setWebLifecycleState`: a frozen tab runs no tasks (timers, IndexedDB callbacks, sockets). */
  async setLifecycle(state: 'frozen' | 'active'): Promise<void> {
    await this.send('Page.setWebLifecycleState', { state });
  }

  /**
   * Hangs or un-hangs the page's JavaScript (`Debugger.pause` / `resume`): unlike a freeze the
   * page gets no `freeze` event, as when a script never yields or the OS suspends the process.
   * The pause lands on the page's next task.
   */
  async hang(hung: boolean): Promise<void> {
    if (hung) {
      await this.send('Debugger.enable');
      await this.send('Debugger.pause');
    } else {
      await this.send('Debugger.resume');
    }
  }

  /** Closes the tab at once (no `beforeunload`), as a killed tab ends. */
  async close(): Promise<void> {
    await fetch(`${this.endpoint}/json/close/${this.targetId}`).catch(() => undefined);
    this.ws.close();
  }
}

/** Debian's Chromium started on its own with a CDP port and a throw-away profile. */
export class CdpBrowser {
  private constructor(
    readonly endpoint: string,
    private readonly stop: () => Promise<void>,
  ) {}

  static async launch(timeoutMs = 60_000): Promise<CdpBrowser> {
    const port = await freePort();
    const profile = mkdtempSync(join(tmpdir(), 'syncline-chaos-profile-'));
    const proc = spawn(
      CHROMIUM_PATH,
      [...CHROMIUM_ARGS, `--remote-debugging-port=${port}`, `--user-data-dir=${profile}`, 'about:blank'],
      // Its own process group: stopping kills the renderers and helpers with it, which would
      // otherwise go on writing into the profile while it is removed.
      { stdio: 'ignore', detached: true },
    );
    const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
    const stop = async () => {
      try {
        if (proc.pid !== undefined) process.kill(-proc.pid, 'SIGKILL');
      } catch {
        // Already gone.
      }
      await exited;
      rmSync(profile, { recursive: true, force: true, maxRetries: 10, retryDelay: 50 });
    };
    const endpoint = `http://127.0.0.1:${port}`;
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      try {
        await fetch(`${endpoint}/json/version`);
        return new CdpBrowser(endpoint, stop);
      } catch (err) {
        if (Date.now() > deadline || proc.exitCode !== null) {
          await stop();
          throw new Error(`Chromium's CDP endpoint did not answer: ${String(err)}`);
        }
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  }

  /** Opens a new tab on `url` (same profile: same origin's IndexedDB, Web Locks, BroadcastChannel). */
  async open(url: string): Promise<CdpPage> {
    const res = await fetch(`${this.endpoint}/json/new?${encodeURIComponent(url)}`, { method: 'PUT' });
    const t = (await res.json()) as { id: string; webSocketDebuggerUrl: string };
    return CdpPage.attach(this.endpoint, t.id, t.webSocketDebuggerUrl);
  }

  /** Kills Chromium and removes its profile. */
  close(): Promise<void> {
    return this.stop();
  }
}
