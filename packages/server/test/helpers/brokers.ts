import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import amqp from 'amqplib';
import { AckPolicy, connect, DeliverPolicy, StringCodec, type NatsConnection } from 'nats';
import { AMQP_URL, NATS_URL, testSchema } from '@syncline/test-support/databases';

/** One message a test consumer received. */
export interface Received {
  /** Routing key (RabbitMQ) or subject (NATS). */
  readonly key: string;
  /** The scope and version the broker message's headers name. */
  readonly scope: string;
  readonly version: number;
  /** The redelivery/dedupe id. */
  readonly id: string | undefined;
  readonly body: unknown;
}

export interface Consumer {
  readonly received: Received[];
  /** Received messages deduplicated on (scope, version), first copy kept, in arrival order. */
  deduped(): Received[];
  close(): Promise<void>;
}

function dedupe(received: readonly Received[]): Received[] {
  const seen = new Set<string>();
  return received.filter((m) => {
    const k = `${m.scope}\u0000${m.version}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

/** A RabbitMQ exchange name of the test's own. */
export const testExchange = (): string => `syncline.test.${testSchema('x')}`;

/**
 * A queue of its own bound to `exchange` (declared here, as the sink declares it) with `binding`,
 * collecting every message; `close()` deletes the queue and the exchange.
 */
export async function rabbitConsumer(exchange: string, binding = '#'): Promise<Consumer> {
  const conn = await amqp.connect(AMQP_URL);
  conn.on('error', () => undefined);
  const ch = await conn.createChannel();
  await ch.assertExchange(exchange, 'topic', { durable: true });
  const { queue } = await ch.assertQueue('', { exclusive: true, autoDelete: true });
  await ch.bindQueue(queue, exchange, binding);
  const received: Received[] = [];
  await ch.consume(
    queue,
    (msg) => {
      if (!msg) return;
      const h = msg.properties.headers ?? {};
      received.push({
        key: msg.fields.routingKey,
        scope: String(h['syncline-scope']),
        version: Number(h['syncline-version']),
        id: msg.properties.messageId as string | undefined,
        body: JSON.parse(msg.content.toString()),
      });
    },
    { noAck: true },
  );
  return {
    received,
    deduped: () => dedupe(received),
    close: async () => {
      await ch.deleteExchange(exchange).catch(() => undefined);
      await conn.close().catch(() => undefined);
    },
  };
}

/** A stream name and subject prefix of the test's own. */
export function testStream(): { stream: string; subjectPrefix: string } {
  const name = testSchema('s');
  return { stream: name, subjectPrefix: `syncline.test.${name}` };
}

/**
 * Creates the stream (the sink uses an existing one) and reads everything stored in it with an
 * ordered push of its own; `close()` deletes the stream.
 */
export async function natsConsumer(
  stream: string,
  subjectPrefix: string,
  servers: string = NATS_URL,
): Promise<Consumer> {
  const nc: NatsConnection = await connect({ servers });
  const jsm = await nc.jetstreamManager();
  await jsm.streams.add({ name: stream, subjects: [`${subjectPrefix}.>`] });
  await jsm.consumers.add(stream, {
    durable_name: 'test',
    ack_policy: AckPolicy.None,
    deliver_policy: DeliverPolicy.All,
  });
  const consumer = await nc.jetstream().consumers.get(stream, 'test');
  const messages = await consumer.consume();
  const received: Received[] = [];
  const codec = StringCodec();
  const done = (async () => {
    for await (const m of messages) {
      received.push({
        key: m.subject,
        scope: m.headers?.get('Syncline-Scope') ?? '',
        version: Number(m.headers?.get('Syncline-Version')),
        id: m.headers?.get('Nats-Msg-Id'),
        body: JSON.parse(codec.decode(m.data)),
      });
    }
  })();
  return {
    received,
    deduped: () => dedupe(received),
    close: async () => {
      await messages.close();
      await done.catch(() => undefined);
      await jsm.streams.delete(stream).catch(() => undefined);
      await nc.close();
    },
  };
}

/** What every test checks of a consumer: per scope, versions 1..n exactly once and in order. */
export function versionsByScope(received: readonly Received[]): Record<string, number[]> {
  const out: Record<string, number[]> = {};
  for (const m of received) (out[m.scope] ??= []).push(m.version);
  return out;
}

/**
 * A webhook receiver on 127.0.0.1 as a consumer: each POST is a message (its scope and version
 * from the `syncline-*` headers, its id the idempotency key), answered 204 after `delayMs` so a
 * backlog takes long enough for a kill to land in the middle.
 */
export async function webhookReceiver(delayMs = 0): Promise<Consumer & { readonly url: string }> {
  const received: Received[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push({
        key: String(req.url),
        scope: String(req.headers['syncline-scope']),
        version: Number(req.headers['syncline-version']),
        id: String(req.headers['idempotency-key']),
        body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown,
      });
      setTimeout(() => res.writeHead(204).end(), delayMs);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`,
    received,
    deduped: () => dedupe(received),
    close: async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
