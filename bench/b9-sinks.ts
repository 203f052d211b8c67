/**
 * B9 broker sinks: a server on in-memory storage with one sink, RabbitMQ (topic exchange,
 * persistent messages, publisher confirms) or NATS JetStream (file storage, PubAck per message),
 * or a webhook (the same sink machinery, one POST at a time to a receiver on 127.0.0.1), and a
 * consumer of the same broker (or the receiver) in this process. Throughput: a backlog of changes written
 * with the sink off, then the time from starting a server with the sink to the consumer holding
 * every change. Lag: with the sink running, one change at a time (a few ms apart), from the call
 * that commits it to the consumer receiving it. Every run checks the consumer got each change
 * once and each scope in version order.
 */
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import amqp from 'amqplib';
import { connect as natsConnect, StringCodec } from 'nats';
import type { AppMutation } from '@syncline/protocol';
import { createSyncServer, MemoryStorage, silentLogger, type SyncServer } from '@syncline/server';
import type { BenchOptions, BenchRow } from './report.js';
import { summarize } from './stats.js';

const AMQP_URL = process.env['SYNCLINE_AMQP_URL'] || 'amqp://guest:guest@127.0.0.1:5672';
const NATS_URL = process.env['SYNCLINE_NATS_URL'] || 'nats://127.0.0.1:4222';
const BACKEND = { id: 'bench' } as const;
const WRITER = { clientId: 'bench-sink-writer' };

type Kind = 'rabbitmq' | 'nats' | 'webhook';
type SinkOption = NonNullable<Parameters<typeof createSyncServer>[0]['sinks']>[number];

interface Consumer {
  /** Arrival time (performance.now()) by `scope:version`. */
  readonly arrived: Map<string, number>;
  readonly order: string[];
  close(): Promise<void>;
}

async function rabbitConsumer(exchange: string): Promise<Consumer> {
  const conn = await amqp.connect(AMQP_URL);
  const ch = await conn.createChannel();
  await ch.assertExchange(exchange, 'topic', { durable: true });
  const { queue } = await ch.assertQueue('', { exclusive: true, autoDelete: true });
  await ch.bindQueue(queue, exchange, '#');
  const arrived = new Map<string, number>();
  const order: string[] = [];
  await ch.consume(
    queue,
    (msg) => {
      if (!msg) return;
      const id = String(msg.properties.messageId);
      order.push(id);
      if (!arrived.has(id)) arrived.set(id, performance.now());
    },
    { noAck: true },
  );
  return {
    arrived,
    order,
    close: async () => {
      await ch.deleteExchange(exchange);
      await conn.close();
    },
  };
}

async function natsConsumer(stream: string, prefix: string): Promise<Consumer> {
  const nc = await natsConnect({ servers: NATS_URL });
  const jsm = await nc.jetstreamManager();
  await jsm.streams.add({ name: stream, subjects: [`${prefix}.>`] });
  // A plain subscription sees each message as JetStream stores it (no consumer round trips).
  const sub = nc.subscribe(`${prefix}.>`);
  const arrived = new Map<string, number>();
  const order: string[] = [];
  const codec = StringCodec();
  const done = (async () => {
    for await (const m of sub) {
      const id = m.headers?.get('Nats-Msg-Id') ?? codec.decode(m.data);
      order.push(id);
      if (!arrived.has(id)) arrived.set(id, performance.now());
    }
  })();
  return {
    arrived,
    order,
    close: async () => {
      sub.unsubscribe();
      await done;
      await jsm.streams.delete(stream);
      await nc.close();
    },
  };
}

/** A webhook receiver on 127.0.0.1 answering 204 at once. */
async function webhookReceiver(): Promise<Consumer & { readonly url: string }> {
  const arrived = new Map<string, number>();
  const order: string[] = [];
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      const id = String(req.headers['idempotency-key']).replace('@', ':');
      order.push(id);
      if (!arrived.has(id)) arrived.set(id, performance.now());
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`,
    arrived,
    order,
    close: async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

interface Rig {
  readonly sinks: SinkOption[];
  readonly collections: Parameters<typeof createSyncServer>[0]['collections'];
  readonly consumer: Consumer;
}

async function rig(kind: Kind): Promise<Rig> {
  const tag = `b8_${randomBytes(4).toString('hex')}`;
  if (kind === 'webhook') {
    const consumer = await webhookReceiver();
    const webhook = { url: consumer.url, secret: 'bench', from: 'start' as const };
    return { sinks: [], collections: { cards: { webhook } }, consumer };
  }
  if (kind === 'rabbitmq') {
    const exchange = `syncline.bench.${tag}`;
    return {
      sinks: [{ name: 'b8', kind, url: AMQP_URL, exchange }],
      collections: {},
      consumer: await rabbitConsumer(exchange),
    };
  }
  const prefix = `syncline.bench.${tag}`;
  return {
    sinks: [{ name: 'b8', kind, servers: NATS_URL, stream: tag, subjectPrefix: prefix }],
    collections: {},
    consumer: await natsConsumer(tag, prefix),
  };
}

/** A server with the rig's sinks and webhooks, or none (`rig` undefined). */
function server(storage: MemoryStorage, rig?: Rig): SyncServer {
  const extra = rig ? { sinks: rig.sinks, ...(rig.collections ? { collections: rig.collections } : {}) } : {};
  return createSyncServer({ auth: 'development', logger: silentLogger, storage, ...extra });
}

const LABELS: Record<Kind, string> = {
  rabbitmq: 'RabbitMQ topic exchange, persistent, confirms',
  nats: 'NATS JetStream, PubAck each',
  webhook: 'webhook, one POST at a time to 127.0.0.1, cursor per 20',
};

let mid = 0;
const puts = (scopes: number, from: number, n: number): AppMutation[] =>
  Array.from({ length: n }, (_, k) => ({
    mid: ++mid,
    scope: `s${(from + k) % scopes}`,
    collection: 'cards',
    id: `c${from + k}`,
    op: 'put',
    base: 0,
    value: { title: `card ${from + k}`, n: from + k },
  })) as unknown as AppMutation[];

async function waitFor(check: () => boolean, what: string, ms = 60_000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`B9: ${what} not within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 2));
  }
}

/** Each change once (after dedupe) and versions ascending per scope in arrival order. */
function check(consumer: Consumer, total: number): void {
  if (consumer.arrived.size !== total)
    throw new Error(`B9: ${consumer.arrived.size} of ${total} changes arrived`);
  const last = new Map<string, number>();
  const seen = new Set<string>();
  for (const id of consumer.order) {
    if (seen.has(id)) continue;
    seen.add(id);
    const at = id.lastIndexOf(':');
    const scope = id.slice(0, at);
    const version = Number(id.slice(at + 1));
    if (version !== (last.get(scope) ?? 0) + 1) throw new Error(`B9: ${id} out of order`);
    last.set(scope, version);
  }
}

async function measure(kind: Kind, quick: boolean): Promise<BenchRow[]> {
  mid = 0;
  const backlog = quick ? 300 : 10_000;
  const lagSamples = quick ? 40 : 500;
  const scopes = 10;
  const setup = await rig(kind);
  const { consumer } = setup;
  const storage = new MemoryStorage();
  try {
    // Throughput: the backlog is written with the sink off.
    const writer = server(storage);
    for (let i = 0; i < backlog; i += 500)
      await writer.applyMutations(BACKEND, puts(scopes, i, Math.min(500, backlog - i)), WRITER);
    await writer.close();
    const start = performance.now();
    const live = server(storage, setup);
    try {
      await waitFor(() => consumer.arrived.size >= backlog, 'the backlog');
      const seconds = (performance.now() - start) / 1000;
      // Lag: one change at a time, commit to arrival.
      const lags: number[] = [];
      for (let i = 0; i < lagSamples; i++) {
        const scope = `s${i % scopes}`;
        const version =
          Math.floor(backlog / scopes) + Math.floor(i / scopes) + (i % scopes < backlog % scopes ? 1 : 0) + 1;
        const t0 = performance.now();
        await live.applyMutations(
          BACKEND,
          [{ ...puts(scopes, backlog + i, 1)[0]!, scope } as AppMutation],
          WRITER,
        );
        const key = `${scope}:${version}`;
        await waitFor(() => consumer.arrived.has(key), `change ${key}`, 15_000);
        lags.push(consumer.arrived.get(key)! - t0);
        await new Promise((r) => setTimeout(r, 3));
      }
      check(consumer, backlog + lagSamples);
      return [
        {
          bench: 'B9',
          name: `sink-${kind}`,
          kind: 'syncline',
          label: `${LABELS[kind]}; backlog ${backlog} changes over ${scopes} scopes (batch 200), then ${lagSamples} single writes`,
          perSecond: Math.round(backlog / seconds),
          latencyMs: summarize(lags),
          extra: { 'backlog published/s': Math.round(backlog / seconds) },
          durability: 'server storage: memory; broker: its default persistence',
        },
      ];
    } finally {
      await live.close();
    }
  } finally {
    await consumer.close();
    await storage.close();
  }
}

/**
 * The floor of a webhook's backlog: the same number of POSTs, one at a time, from this process
 * to a receiver like the webhook's (keep-alive fetch, body of a typical change, no signature).
 */
async function webhookFloor(quick: boolean): Promise<BenchRow> {
  const n = quick ? 300 : 10_000;
  const receiver = await webhookReceiver();
  try {
    const body = JSON.stringify({ scope: 's1', collection: 'cards', id: 'c1', version: 1, value: { n: 1 } });
    const start = performance.now();
    for (let i = 0; i < n; i++) {
      const res = await fetch(receiver.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'idempotency-key': `s@${i + 1}` },
        body,
      });
      await res.arrayBuffer();
    }
    const perSecond = Math.round(n / ((performance.now() - start) / 1000));
    return {
      bench: 'B9',
      name: 'floor-webhook-posts',
      kind: 'floor',
      label: `${n} POSTs one at a time to a receiver on 127.0.0.1 (what a webhook backlog cannot beat)`,
      perSecond,
      extra: { 'POSTs/s': perSecond },
      durability: 'none (no storage, no cursor)',
    };
  } finally {
    await receiver.close();
  }
}

export async function run(opts: BenchOptions): Promise<BenchRow[]> {
  return [
    ...(await measure('rabbitmq', opts.quick)),
    ...(await measure('nats', opts.quick)),
    await webhookFloor(opts.quick),
    ...(await measure('webhook', opts.quick)),
  ];
}
