import { afterEach, describe, expect, it } from 'vitest';
import type { Mutation } from '@syncline/protocol';
import {
  startServer,
  TestClient,
  type MutationInput,
  type RunningServer,
} from '@syncline/test-support/server';
import { scrape } from './helpers/http.js';

const running: RunningServer[] = [];
const clients: TestClient[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  for (const r of running.splice(0)) await r.stop();
});

async function start(opts: Parameters<typeof startServer>[0] = {}) {
  const r = await startServer({
    collections: {
      cards: { strategy: 'merge' },
      contracts: { strategy: 'manual' },
      notes: { validate: (v) => (typeof v['title'] === 'string' ? undefined : 'title is required') },
    },
    ...opts,
  });
  running.push(r);
  return r;
}

async function connect(url: string) {
  const c = await TestClient.connect(url);
  clients.push(c);
  return c;
}

const S = 'team:a';
const put = (collection: string, id: string, value: Record<string, unknown>, base = 0): MutationInput => ({
  scope: S,
  collection,
  id,
  op: 'put',
  base,
  value: value as never,
});
const patch = (id: string, base: number, set: Record<string, unknown>): MutationInput => ({
  scope: S,
  collection: 'cards',
  id,
  op: 'patch',
  base,
  patch: { set: set as never },
});

/**
 * Nine accepted pushes (ten mutations) and one invalid push, pulls in pages, subscriptions and
 * telemetry — with exactly known outcomes.
 */
async function workload(url: string) {
  const a = await connect(url);
  const b = await connect(url);
  const first = a.mutations(put('cards', 'c1', { title: 'a', n: 0 }));
  await a.push(first); // 1: applied            → v1
  await a.write(put('cards', 'c2', { title: 'x' }), put('cards', 'c3', { title: 'y' })); // 2: 2 applied → v2, v3
  await b.write(patch('c1', 1, { title: 'b' })); // 3: applied → v4
  await a.write(patch('c1', 1, { n: 5 })); // 4: concurrent with b → merged → v5
  await a.write(put('contracts', 'k1', { v: 1 })); // 5: applied → v6
  await b.write(put('contracts', 'k1', { v: 2 })); // 6: manual, concurrent → conflict
  await b.write(put('notes', 'n1', { body: 'no title' })); // 7: validation → rejected
  await b.write(put('misc', 'm1', { x: 1 })); // 8: unconfigured collection → label "other" → v7
  await a.push([{ ...first[0]!, mid: 1 } as Mutation]); // 9: re-sent → duplicate
  expect(await a.raw('push', { mutations: [] })).toMatchObject({ error: { code: 'invalid_message' } });

  // Pages of 2 over five latest records: after 0 (head 7), after 3, after 6.
  let after = 0;
  for (;;) {
    const page = await b.pull(S, after, 2);
    if (!page.ok) throw new Error(page.error.code);
    after = page.upTo;
    if (!page.hasMore) break;
  }
  await a.subscribe(S, 'team:b');
  await b.subscribe(S);
  return { a, b };
}

describe('Prometheus metrics', () => {
  it('count a scripted workload exactly, with histograms', async () => {
    const r = await start();
    const { a, b } = await workload(r.url);
    expect(
      await a.raw('telemetry', {
        scopes: [
          { scope: S, cursor: 3, head: 7 },
          // Not subscribed: ignored, so a client cannot inflate other scopes' lag.
          { scope: 'team:zzz', cursor: 0, head: 100_000 },
        ],
        pending: 4,
        oldestPendingAgeMs: 2500,
        pushLatencyMs: 12,
        conflictRate: 0.25,
      }),
    ).toEqual({ ok: true });
    expect(
      await b.raw('telemetry', {
        scopes: [{ scope: S, cursor: 7, head: 7 }],
        pending: 0,
        oldestPendingAgeMs: null,
        pushLatencyMs: null,
        conflictRate: 0,
      }),
    ).toEqual({ ok: true });

    const m = await scrape(r.url);
    const v = (name: string, labels?: Record<string, string>) => m.value(`syncline_${name}`, labels);

    expect(v('node_info', { storage: 'memory', node_id: r.server.nodeId })).toBe(1);
    expect(v('connected_clients')).toBe(2);
    expect(v('subscriptions')).toBe(3);
    expect(v('subscribed_scopes')).toBe(2);
    expect(v('max_scope_subscribers')).toBe(2);

    // Mutations per collection and outcome; `misc` is not configured, so it is "other".
    expect(v('mutations_received_total', { collection: 'cards' })).toBe(6);
    expect(v('mutations_received_total', { collection: 'contracts' })).toBe(2);
    expect(v('mutations_received_total', { collection: 'notes' })).toBe(1);
    expect(v('mutations_received_total', { collection: 'other' })).toBe(1);
    expect(m.has('syncline_mutations_received_total', { collection: 'misc' })).toBe(false);
    const result = (collection: string, status: string) =>
      v('mutation_results_total', { collection, status, source: 'client' });
    expect(result('cards', 'applied')).toBe(4);
    expect(result('cards', 'merged')).toBe(1);
    expect(result('cards', 'duplicate')).toBe(1);
    expect(result('contracts', 'applied')).toBe(1);
    expect(result('contracts', 'conflict')).toBe(1);
    expect(result('notes', 'rejected')).toBe(1);
    expect(result('other', 'applied')).toBe(1);
    expect(v('mutation_rejections_total', { collection: 'notes', code: 'validation_failed' })).toBe(1);
    expect(v('changes_committed_total', { collection: 'cards', source: 'client' })).toBe(5);
    expect(v('changes_committed_total')).toBe(7);

    // Push batch sizes: eight pushes of 1, one of 2; the invalid push is not among them.
    expect(v('push_batch_mutations_count', { source: 'client' })).toBe(9);
    expect(v('push_batch_mutations_sum', { source: 'client' })).toBe(10);
    expect(v('push_batch_mutations_bucket', { source: 'client', le: '1' })).toBe(8);
    expect(v('push_batch_mutations_bucket', { source: 'client', le: '2' })).toBe(9);
    expect(v('push_latency_seconds_count', { source: 'client' })).toBe(9);
    expect(v('push_latency_seconds_sum', { source: 'client' })).toBeGreaterThan(0);
    expect(v('push_latency_seconds_bucket', { source: 'client', le: '+Inf' })).toBe(9);
    expect(v('requests_total', { event: 'push', result: 'ok' })).toBe(9);
    expect(v('requests_total', { event: 'push', result: 'invalid_message' })).toBe(1);

    // Six commits wrote something; each was fanned out once.
    expect(v('fanout_latency_seconds_count')).toBe(6);
    expect(v('fanout_changes_total')).toBe(7);

    // Pull pages and rows; pull lag per request: 7, 4, 1.
    expect(v('pull_pages_total')).toBe(3);
    expect(v('pull_rows_total')).toBe(5);
    expect(v('pull_lag_versions_count')).toBe(3);
    expect(v('pull_lag_versions_sum')).toBe(12);
    expect(v('pull_lag_versions_bucket', { le: '5' })).toBe(2);

    // Client telemetry → lag metrics (one observation per subscribed scope and report).
    expect(v('client_lag_versions_count')).toBe(2);
    expect(v('client_lag_versions_sum')).toBe(4);
    expect(v('client_max_lag_versions')).toBe(4);
    expect(v('client_max_pending_mutations')).toBe(4);
    expect(v('client_max_oldest_pending_seconds')).toBe(2.5);
    expect(v('client_telemetry_reports_total')).toBe(2);

    expect(v('storage_errors_total')).toBe(0);
    // prom-client's process metrics, on the same registry, with the prefix.
    expect(m.has('syncline_process_resident_memory_bytes')).toBe(true);
    expect(m.has('syncline_nodejs_eventloop_lag_seconds')).toBe(true);
    expect(m.has('syncline_nodejs_heap_size_used_bytes')).toBe(true);

    // A disconnected client's telemetry no longer counts.
    a.close();
    await expect.poll(async () => (await scrape(r.url)).value('syncline_client_max_lag_versions')).toBe(0);
  });

  it('never labels by scope, record id, client id or user id', async () => {
    const r = await start();
    const { a } = await workload(r.url);
    const m = await scrape(r.url);
    const forbiddenLabels = new Set(['scope', 'id', 'record', 'client_id', 'clientId', 'user', 'user_id']);
    for (const s of m.samples) {
      expect(s.name.startsWith('syncline_'), s.name).toBe(true);
      for (const [k, value] of Object.entries(s.labels)) {
        expect(forbiddenLabels.has(k), `${s.name}{${k}}`).toBe(false);
        expect(
          value.includes(a.clientId) || value.includes(S) || value === 'c1',
          `${s.name}{${k}="${value}"}`,
        ).toBe(false);
      }
    }
  });

  it('keeps a registry per server: two servers in one process count separately', async () => {
    const one = await start();
    const two = await start();
    expect(one.server.metricsRegistry).not.toBe(two.server.metricsRegistry);
    await workload(one.url);
    const m1 = await scrape(one.url);
    const m2 = await scrape(two.url);
    expect(m1.value('syncline_push_batch_mutations_count')).toBe(9);
    expect(m2.value('syncline_push_batch_mutations_count')).toBe(0);
    expect(m2.value('syncline_connected_clients')).toBe(0);
  });

  it('can require a bearer token, or be switched off', async () => {
    const guarded = await start({ metrics: { token: 's3cret', defaultMetrics: false } });
    expect((await fetch(`${guarded.url}/metrics`)).status).toBe(401);
    expect(
      (await fetch(`${guarded.url}/metrics`, { headers: { authorization: 'Bearer nope' } })).status,
    ).toBe(401);
    const m = await scrape(guarded.url, 's3cret');
    expect(m.has('syncline_connected_clients')).toBe(true);
    expect(m.has('syncline_process_resident_memory_bytes')).toBe(false);
    const off = await start({ metrics: false });
    expect((await fetch(`${off.url}/metrics`)).status).toBe(404);
  });

  it('counts HTTP requests by route and status, and storage errors', async () => {
    const r = await start();
    await fetch(`${r.url}/healthz`);
    await fetch(`${r.url}/v1/changes`); // no scope: 400
    const c = await connect(r.url);
    (r.storage as { pull: unknown }).pull = () =>
      Promise.reject(Object.assign(new Error('disk'), { code: 'SQLITE_IOERR' }));
    expect(await c.pull(S)).toMatchObject({ ok: false, error: { code: 'storage_unavailable' } });
    const m = await scrape(r.url);
    expect(m.value('syncline_http_requests_total', { route: 'healthz', status: '200' })).toBe(1);
    expect(m.value('syncline_http_requests_total', { route: 'changes', status: '400' })).toBe(1);
    expect(m.value('syncline_storage_errors_total', { operation: 'pull' })).toBe(1);
    expect(m.value('syncline_requests_total', { event: 'pull', result: 'storage_unavailable' })).toBe(1);
  });
});
