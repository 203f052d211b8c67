import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { FeedChange, Mutation } from '@syncline/protocol';
import type { Timers } from '../src/ops/timers.js';
import { SqliteStorage } from '../src/storage/sqlite-storage.js';
import type { WebhookConfig } from '../src/sync/collections.js';
import type { AppFeedChange } from '../src/sync/app-values.js';
import { webhookRetryDelay } from '../src/webhooks/webhook-publisher.js';
import { signWebhook, verifyWebhookSignature } from '../src/webhooks/webhook-signature.js';
import {
  startServer,
  TestClient,
  type MutationInput,
  type RunningServer,
} from '@syncline/test-support/server';
import { eventually } from '@syncline/test-support';
import { scrape } from './helpers/http.js';

const SECRET = 'whsec_test';

let running: RunningServer | undefined;
let receiver: Server | undefined;
const clients: TestClient[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await running?.stop();
  running = undefined;
  if (receiver) {
    receiver.closeAllConnections();
    await new Promise((resolve) => receiver!.close(resolve));
    receiver = undefined;
  }
});

interface Received {
  readonly headers: IncomingMessage['headers'];
  readonly body: string;
}

/** A webhook receiver on 127.0.0.1; `answer` decides per request (by 1-based number). */
async function startReceiver(
  answer: (n: number, req: IncomingMessage) => 'ok' | 'fail' | 'drop' | 'hang',
): Promise<{ url: string; received: Received[] }> {
  const received: Received[] = [];
  let n = 0;
  receiver = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const what = answer(++n, req);
      if (what === 'fail') return res.writeHead(500).end('try again');
      if (what === 'hang') return; // never answers
      received.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
      if (what === 'drop') return req.socket.destroy(); // processed, but the answer is lost
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => receiver!.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`, received };
}

const put = (scope: string, collection: string, id: string, n: number): MutationInput => ({
  scope,
  collection,
  id,
  op: 'put',
  base: 0,
  value: { n },
});

async function allChanges(r: RunningServer, scope: string): Promise<AppFeedChange[]> {
  const out: AppFeedChange[] = [];
  for await (const c of r.server.changes(scope, { follow: false })) out.push(c);
  return out;
}

describe('webhooks', () => {
  it('deliver every committed change of the collection at least once; deduplicated by version, each exactly once', async () => {
    // Requests 1-3 fail with 500; request 5 is processed but its answer is lost.
    const hook = await startReceiver((n) => (n <= 3 ? 'fail' : n === 5 ? 'drop' : 'ok'));
    running = await startServer({
      collections: {
        cards: {
          webhook: { url: hook.url, secret: SECRET, retryDelayMs: 5, maxDelayMs: 20, timeoutMs: 2000 },
        },
        notes: {},
      },
    });
    const client = await TestClient.connect(running.url);
    clients.push(client);
    await client.write(put('team:a', 'cards', 'c1', 1), put('team:b', 'cards', 'x1', 1));
    await client.write(put('team:a', 'notes', 'n1', 1)); // no webhook on notes
    await client.write({
      scope: 'team:a',
      collection: 'cards',
      id: 'c1',
      op: 'patch',
      base: 1,
      patch: { set: { n: 2 } },
    });
    await client.write(put('team:a', 'cards', 'c2', 1), put('team:b', 'cards', 'x2', 1));
    const backend = { id: 'backend' };
    const viaBackend = await running.server.applyMutations(backend, [
      { mid: 1, ...put('team:a', 'cards', 'c3', 1) } as Mutation,
    ]);
    expect(viaBackend.ok).toBe(true);
    await running.server.webhooksSettled();

    const expected = [
      ...(await allChanges(running, 'team:a')),
      ...(await allChanges(running, 'team:b')),
    ].filter((c) => c.collection === 'cards');
    expect(expected).toHaveLength(6);

    // Every request is signed over its exact body and names the change it carries.
    for (const r of hook.received) {
      expect(verifyWebhookSignature(SECRET, r.headers['syncline-signature'] as string, r.body)).toBe(true);
      const change = JSON.parse(r.body) as FeedChange;
      expect(r.headers['idempotency-key']).toBe(`${change.scope}@${change.version}`);
      expect(r.headers['syncline-version']).toBe(String(change.version));
      expect(r.headers['content-type']).toBe('application/json');
    }
    // At least once: the lost answer caused a re-delivery ...
    expect(hook.received.length).toBeGreaterThan(expected.length);
    // ... and deduplicating by (scope, version) leaves every change exactly once, as committed.
    const byKey = new Map<string, FeedChange>();
    for (const r of hook.received) {
      const change = JSON.parse(r.body) as FeedChange;
      byKey.set(`${change.scope}@${change.version}`, change);
    }
    expect(
      [...byKey.values()].sort((a, b) => a.scope.localeCompare(b.scope) || a.version - b.version),
    ).toEqual(expected);
    // In commit order per scope (first deliveries).
    const firstSeen = [...new Set(hook.received.map((r) => r.headers['idempotency-key'] as string))];
    for (const scope of ['team:a', 'team:b']) {
      const versions = firstSeen.filter((k) => k.startsWith(`${scope}@`)).map((k) => Number(k.split('@')[1]));
      expect(versions).toEqual([...versions].sort((a, b) => a - b));
    }

    const m = await scrape(running.url);
    expect(m.value('syncline_webhook_deliveries_total', { collection: 'cards', result: 'delivered' })).toBe(
      6,
    );
    expect(m.value('syncline_webhook_attempts_total', { collection: 'cards', outcome: 'http_error' })).toBe(
      3,
    );
    expect(
      m.value('syncline_webhook_attempts_total', { collection: 'cards', outcome: 'network_error' }),
    ).toBe(1);
    expect(m.value('syncline_webhook_queue_depth', { collection: 'cards' })).toBe(0);
    expect(m.value('syncline_webhook_delivery_latency_seconds_count', { collection: 'cards' })).toBe(6);
  });

  it('never delays a push, even when the receiver hangs', async () => {
    const hook = await startReceiver(() => 'hang');
    running = await startServer({
      collections: { cards: { webhook: { url: hook.url, secret: SECRET, timeoutMs: 60_000 } } },
    });
    const client = await TestClient.connect(running.url);
    clients.push(client);
    const started = performance.now();
    for (let i = 0; i < 5; i++) await client.write(put('team:a', 'cards', `c${i}`, i));
    expect(performance.now() - started).toBeLessThan(2000);
    const m = await scrape(running.url);
    expect(m.value('syncline_webhook_queue_depth', { collection: 'cards' })).toBe(5);
  });

  it('retries with capped exponential backoff on injected timers and clock, then gives up', async () => {
    const timers = new FakeTimers();
    const calls: { at: number; signature: string }[] = [];
    running = await startServer({
      clock: { now: () => timers.now },
      timers,
      collections: {
        cards: {
          webhook: {
            url: 'http://127.0.0.1:9/unused',
            secret: SECRET,
            retryDelayMs: 1000,
            maxDelayMs: 4000,
            maxAttempts: 5,
          },
        },
      },
      webhooks: {
        random: () => 0.5,
        fetch: async (_url, init) => {
          calls.push({
            at: timers.now,
            signature: (init?.headers as Record<string, string>)['syncline-signature']!,
          });
          return new Response('unavailable', { status: 503 });
        },
      },
    });
    const client = await TestClient.connect(running.url);
    clients.push(client);
    await client.write(put('team:a', 'cards', 'c1', 1));
    await expect.poll(() => calls.length).toBe(1);
    // Delays 750, 1500, 3000, 3000 (1000·2^k capped at 4000, jittered to its upper half at 0.5).
    for (const delay of [750, 1500, 3000, 3000]) {
      await timers.advance(delay - 1);
      expect(calls.length).toBeLessThan(6);
      const before = calls.length;
      await timers.advance(1);
      await expect.poll(() => calls.length).toBe(before + 1);
    }
    expect(calls.map((c) => c.at - calls[0]!.at)).toEqual([0, 750, 2250, 5250, 8250]);
    expect(calls[2]!.signature).toMatch(new RegExp(`^t=${calls[2]!.at},v1=[0-9a-f]{64}$`));
    await running.server.webhooksSettled();
    // Given up for good: no attempt follows, however long the server runs on.
    await timers.advance(600_000);
    expect(calls).toHaveLength(5);
    const m = await scrape(running.url);
    expect(m.value('syncline_webhook_deliveries_total', { collection: 'cards', result: 'gave_up' })).toBe(1);
    expect(m.value('syncline_webhook_attempts_total', { collection: 'cards', outcome: 'http_error' })).toBe(
      5,
    );
  });

  it("start at their first start ('now'), keep undelivered changes across a restart, and 'start' replays history", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'syncline-webhooks-'));
    const path = join(dir, 'sync.db');
    let mode: 'ok' | 'hang' = 'ok';
    let requests = 0;
    const hook = await startReceiver(() => (requests++, mode));
    const webhook = (extra: Partial<WebhookConfig> = {}) => ({
      cards: { webhook: { url: hook.url, secret: SECRET, retryDelayMs: 5, timeoutMs: 60_000, ...extra } },
    });
    const keys = () => hook.received.map((r) => r.headers['idempotency-key']);
    try {
      // History from before the webhook existed.
      running = await startServer({ storage: await SqliteStorage.open({ path }) });
      let client = await TestClient.connect(running.url);
      await client.write(put('team:a', 'cards', 'old1', 1), put('team:a', 'notes', 'n0', 1));
      client.close();
      await running.stop();

      running = await startServer({ storage: await SqliteStorage.open({ path }), collections: webhook() });
      client = await TestClient.connect(running.url);
      await client.write(put('team:a', 'cards', 'new1', 1));
      await running.server.webhooksSettled();
      expect(keys()).toEqual(['team:a@3']);
      // The receiver stops answering: one change is in flight, one waits, when the server stops.
      mode = 'hang';
      await client.write(put('team:a', 'cards', 'new2', 1), put('team:b', 'cards', 'new3', 1));
      await eventually(() => requests === 2, 'the next delivery is in flight');
      client.close();
      await running.stop();

      mode = 'ok';
      running = await startServer({ storage: await SqliteStorage.open({ path }), collections: webhook() });
      await running.server.webhooksSettled();
      // In flight at the stop, so delivered again: the receiver dedupes it by its key.
      expect(keys()).toEqual(['team:a@3', 'team:a@4', 'team:b@1']);
      expect(requests).toBe(4); // team:a@4 twice: the receiver dedupes by its key
      await running.stop();

      // Another collection's webhook on the same database can start from the retained history.
      running = await startServer({
        storage: await SqliteStorage.open({ path }),
        collections: { notes: webhook({ from: 'start' }).cards },
      });
      client = await TestClient.connect(running.url);
      await client.write(put('team:b', 'notes', 'n1', 1));
      client.close();
      await running.server.webhooksSettled();
      expect(keys().slice(3)).toEqual(['team:a@2', 'team:b@2']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('computes capped, jittered delays', () => {
    const cfg = { retryDelayMs: 100, maxDelayMs: 1000 };
    expect([1, 2, 3, 4, 5, 60].map((a) => webhookRetryDelay(a, cfg, () => 0))).toEqual([
      50, 100, 200, 400, 500, 500,
    ]);
    expect([1, 2, 3, 4, 5].map((a) => webhookRetryDelay(a, cfg, () => 0.999999))).toEqual([
      100, 200, 400, 800, 1000,
    ]);
  });

  it('signatures verify only for the exact body, secret and a recent timestamp', () => {
    const body = '{"scope":"team:a","version":3}';
    const now = 1_700_000_000_000;
    const header = signWebhook(SECRET, now, body);
    expect(verifyWebhookSignature(SECRET, header, body, { now })).toBe(true);
    expect(verifyWebhookSignature(SECRET, header, body.replace('3', '4'), { now })).toBe(false);
    expect(verifyWebhookSignature('other', header, body, { now })).toBe(false);
    expect(verifyWebhookSignature(SECRET, header, body, { now: now + 301_000 })).toBe(false);
    expect(verifyWebhookSignature(SECRET, undefined, body, { now })).toBe(false);
    expect(verifyWebhookSignature(SECRET, 't=abc,v1=zz', body, { now })).toBe(false);
  });
});

/** Timers driven by `advance`, with a clock that moves with them. */
class FakeTimers implements Timers {
  now = 1_000_000;
  #next = 1;
  readonly #queue = new Map<number, { at: number; fn: () => void }>();

  setTimeout(fn: () => void, ms: number): number {
    const id = this.#next++;
    this.#queue.set(id, { at: this.now + ms, fn });
    return id;
  }

  clearTimeout(handle: unknown): void {
    this.#queue.delete(handle as number);
  }

  /** Moves time forward, running due callbacks in order and letting their promises settle. */
  async advance(ms: number): Promise<void> {
    const until = this.now + ms;
    for (;;) {
      const due = [...this.#queue].filter(([, t]) => t.at <= until).sort((a, b) => a[1].at - b[1].at)[0];
      if (!due) break;
      this.#queue.delete(due[0]);
      this.now = due[1].at;
      due[1].fn();
      await new Promise((r) => setImmediate(r));
    }
    this.now = until;
  }
}
