import { afterEach, describe, expect, it } from 'vitest';
import type { AppMutation, FeedChange } from '@syncline/protocol';
import { createSyncServer, type SyncServer } from '../src/create-sync-server.js';
import { silentLogger } from '../src/ops/logger.js';
import type { SinkConfig, SinkTransform } from '../src/sinks/sink-config.js';
import { MemoryStorage } from '../src/storage/memory-storage.js';
import { SqliteStorage } from '../src/storage/sqlite-storage.js';
import type { SyncStorage } from '../src/storage/storage.js';
import { eventually, startTcpProxy, type TcpProxy } from '@syncline/test-support';
import { AMQP_URL, NATS_URL } from '@syncline/test-support/databases';
import {
  natsConsumer,
  rabbitConsumer,
  testExchange,
  testStream,
  versionsByScope,
  type Consumer,
} from './helpers/brokers.js';

const BACKEND = { id: 'backend' } as const;
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

/** A broker under test: a consumer of a destination of the test's own, and a sink config for it. */
interface Rig {
  readonly consumer: Consumer;
  sink(over?: { transform?: SinkTransform; url?: string; name?: string }): SinkConfig;
}

const rigs: Record<'rabbitmq' | 'nats', () => Promise<Rig>> = {
  rabbitmq: async () => {
    const exchange = testExchange();
    const consumer = await rabbitConsumer(exchange);
    cleanups.push(() => consumer.close());
    return {
      consumer,
      sink: (over = {}) => ({
        name: over.name ?? 'out',
        kind: 'rabbitmq',
        url: over.url ?? AMQP_URL,
        exchange,
        retryMinMs: 50,
        retryMaxMs: 200,
        batchSize: 20,
        ...(over.transform ? { transform: over.transform } : {}),
      }),
    };
  },
  nats: async () => {
    const { stream, subjectPrefix } = testStream();
    const consumer = await natsConsumer(stream, subjectPrefix);
    cleanups.push(() => consumer.close());
    return {
      consumer,
      sink: (over = {}) => ({
        name: over.name ?? 'out',
        kind: 'nats',
        servers: over.url ?? NATS_URL,
        stream,
        subjectPrefix,
        retryMinMs: 50,
        retryMaxMs: 200,
        batchSize: 20,
        ...(over.transform ? { transform: over.transform } : {}),
      }),
    };
  },
};

async function serve(sinks: SinkConfig[], storage: SyncStorage = new MemoryStorage()): Promise<SyncServer> {
  const server = createSyncServer({
    auth: 'development',
    logger: silentLogger,
    storage,
    sinks,
    changeFeed: { pollIntervalMs: 50 },
  });
  cleanups.push(async () => {
    await server.close();
    await storage.close();
  });
  return server;
}

const WRITER = { clientId: 'sink-test-writer' };
/** The writer's next mid per server (a reopened database continues where it left off). */
const mids = new WeakMap<SyncServer, number>();
async function put(
  server: SyncServer,
  scope: string,
  id: string,
  value: Record<string, unknown>,
  collection = 'todos',
) {
  let last = mids.get(server);
  if (last === undefined) {
    const state = await server.writerState(BACKEND, WRITER);
    last = state.ok ? state.lastMid : 0;
  }
  const mid = last + 1;
  mids.set(server, mid);
  const m = { mid, scope, collection, id, op: 'put', base: 0, value } as unknown as AppMutation;
  const res = await server.applyMutations(BACKEND, [m], WRITER);
  if (!res.ok) throw new Error(JSON.stringify(res));
}

const dense = (n: number) => Array.from({ length: n }, (_, i) => i + 1);

describe.each(['rabbitmq', 'nats'] as const)('broker sink: %s', (kind) => {
  it('publishes every change once, in version order per scope, keyed by escaped scope and collection', async () => {
    const rig = await rigs[kind]();
    const server = await serve([rig.sink()]);
    // Written before and after the sink is up: the backlog and live changes alike.
    for (let i = 0; i < 30; i++) await put(server, i % 2 ? 'team.a' : 'team:b', `r${i % 4}`, { i });
    await put(server, 'team.a', 'x', { last: true }, 'notes.v2');
    await eventually(() => rig.consumer.received.length >= 31, 'all changes published');
    expect(versionsByScope(rig.consumer.received)).toEqual({ 'team.a': dense(16), 'team:b': dense(15) });
    const last = rig.consumer.received.find((m) => m.scope === 'team.a' && m.version === 16)!;
    expect(last.key).toMatch(kind === 'rabbitmq' ? /^team%2Ea\.notes%2Ev2$/ : /\.team%2Ea\.notes%2Ev2$/);
    expect(last.id).toBe('team.a:16');
    expect(last.body).toMatchObject({
      scope: 'team.a',
      collection: 'notes.v2',
      id: 'x',
      version: 16,
      op: 'put',
    });
    expect((last.body as FeedChange).value).toEqual({ last: true });
  });

  it('runs the transform: drops what it returns null for, publishes its reshaped result', async () => {
    const rig = await rigs[kind]();
    const transform: SinkTransform = (c) =>
      c.collection === 'secrets' ? null : { scope: c.scope, version: c.version, title: c.value?.['title'] };
    const server = await serve([rig.sink({ transform })]);
    await put(server, 's', 'a', { title: 'one', hidden: 'x' });
    await put(server, 's', 'k', { pin: 1234 }, 'secrets');
    await put(server, 's', 'b', { title: 'two' });
    await eventually(() => rig.consumer.received.length >= 2, 'transformed changes published');
    expect(rig.consumer.received.map((m) => m.body)).toEqual([
      { scope: 's', version: 1, title: 'one' },
      { scope: 's', version: 3, title: 'two' },
    ]);
  });

  it('survives connections cut mid-stream: after dedupe, every change once and in order', async () => {
    const rig = await rigs[kind]();
    const target = kind === 'rabbitmq' ? AMQP_URL : NATS_URL;
    const proxy: TcpProxy = await startTcpProxy(target.replace(/^\w+:\/\/([^@]*@)?/, 'http://'));
    cleanups.push(() => proxy.close());
    const url = target.replace(/127\.0\.0\.1:\d+/, new URL(proxy.url).host);
    const server = await serve([rig.sink({ url })]);
    // Writes go on until the last cut, so each cut lands while there is something to publish.
    let cutting = true;
    let written = 0;
    const writes = (async () => {
      for (let i = 0; i < 120 || cutting; i++) {
        await put(server, `s${i % 3}`, `r${i % 5}`, { i });
        written = i + 1;
        // Memory storage answers in microtasks: yield, or this loop would starve the timers.
        await new Promise((r) => setImmediate(r));
      }
    })();
    try {
      for (let cut = 0; cut < 3; cut++) {
        const before = rig.consumer.received.length;
        await eventually(() => rig.consumer.received.length > before, 'publishing goes on between cuts');
        proxy.heal(); // closes every proxied connection: the broker link drops mid-stream
      }
    } finally {
      cutting = false;
      await writes;
    }
    await eventually(() => rig.consumer.deduped().length >= written, 'every change published after the cuts');
    const inScope = (k: number) => Math.ceil((written - k) / 3);
    expect(versionsByScope(rig.consumer.deduped())).toEqual({
      s0: dense(inScope(0)),
      s1: dense(inScope(1)),
      s2: dense(inScope(2)),
    });
  });
});

describe('broker sink cursors', () => {
  it('resume from the stored cursor after a restart, on SQLite', async () => {
    const rig = await rigs.rabbitmq();
    const dir = await import('node:fs/promises').then((fs) => fs.mkdtemp('/tmp/syncline-sink-'));
    cleanups.push(() =>
      import('node:fs/promises').then((fs) => fs.rm(dir, { recursive: true, force: true })),
    );
    const path = `${dir}/db.sqlite`;
    const first = createSyncServer({
      auth: 'development',
      logger: silentLogger,
      storage: await SqliteStorage.open({ path }),
      sinks: [rig.sink()],
    });
    for (let i = 0; i < 5; i++) await put(first, 'a', 'r', { i });
    await eventually(() => rig.consumer.received.length >= 5, 'first run published');
    await first.close();
    const storage = await SqliteStorage.open({ path });
    const second = await serve([rig.sink()], storage);
    for (let i = 0; i < 5; i++) await put(second, 'a', 'r', { i });
    await eventually(() => rig.consumer.received.length >= 10, 'second run published');
    // Nothing of the first run was published again: the cursor was stored.
    expect(rig.consumer.received.map((m) => m.version)).toEqual(dense(10));
  });
});

describe('broker sink operations', () => {
  const metric = async (server: SyncServer, line: RegExp) => {
    const text = await server.metricsRegistry.metrics();
    const found = text.split('\n').find((l) => line.test(l));
    return found === undefined ? undefined : Number(found.split(' ').pop());
  };

  it('counts published changes and shows lag 0 once caught up, active on this node', async () => {
    const rig = await rigs.rabbitmq();
    const server = await serve([rig.sink({ name: 'metered' })]);
    for (let i = 0; i < 3; i++) await put(server, 'm', 'r', { i });
    await eventually(() => rig.consumer.received.length >= 3, 'published');
    await eventually(
      async () => (await metric(server, /^syncline_sink_published_total\{sink="metered"/)) === 3,
      'published counted',
    );
    expect(await metric(server, /^syncline_sink_active\{sink="metered"/)).toBe(1);
    await eventually(
      async () => (await metric(server, /^syncline_sink_lag_changes\{sink="metered"/)) === 0,
      'no lag',
    );
    expect(await metric(server, /^syncline_sink_publish_lag_seconds_count\{sink="metered"/)).toBe(3);
  });

  it('with the broker down: retries with backoff, counts errors and lag, and writes go on', async () => {
    const proxy = await startTcpProxy('http://127.0.0.1:9'); // nothing listens on the discard port
    cleanups.push(() => proxy.close());
    const server = await serve([
      {
        name: 'down',
        kind: 'rabbitmq',
        url: `amqp://guest:guest@${new URL(proxy.url).host}`,
        exchange: testExchange(),
        retryMinMs: 20,
        retryMaxMs: 50,
      },
    ]);
    for (let i = 0; i < 4; i++) await put(server, 'd', 'r', { i });
    await eventually(
      async () =>
        ((await metric(server, /^syncline_sink_errors_total\{sink="down",stage="connect"/)) ?? 0) >= 3,
      'connection failures counted',
    );
    expect(await metric(server, /^syncline_sink_active\{sink="down"/)).toBe(0);
    expect(await metric(server, /^syncline_sink_published_total\{sink="down"/)).toBeUndefined();
  });

  it('refuses bad sink options with invalid_config naming the path, before anything starts', () => {
    const bad = (sinks: unknown) => () =>
      createSyncServer({ auth: 'development', storage: new MemoryStorage(), sinks: sinks as never });
    expect(bad([{ name: 'a', kind: 'kafka' }])).toThrow(
      /invalid_config: sinks\[0\]\.kind: expected kind 'rabbitmq' or 'nats', got 'kafka'/,
    );
    expect(bad([{ name: 'a', kind: 'rabbitmq', url: 'http://x', exchange: 'e' }])).toThrow(
      /sinks\[0\]\.url: expected a URL with scheme amqp or amqps, got 'http:\/\/x'/,
    );
    expect(
      bad([{ name: 'a', kind: 'nats', servers: 'nats://x:4222', stream: 'a.b', subjectPrefix: 'p.*' }]),
    ).toThrow(/sinks\[0\]\.stream: .*sinks\[0\]\.subjectPrefix: expected dot-separated tokens/s);
    const ok = { kind: 'rabbitmq', url: 'amqp://h', exchange: 'e' };
    expect(
      bad([
        { name: 'a', ...ok },
        { name: 'a', ...ok },
      ]),
    ).toThrow(/sinks\[1\]\.name: sink name 'a' is used twice/);
    expect(bad([{ name: 'a', ...ok, transform: 'drop' }])).toThrow(
      /sinks\[0\]\.transform: expected a function/,
    );
  });
});
