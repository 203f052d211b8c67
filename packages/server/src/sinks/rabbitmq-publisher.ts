import { importOptional } from '../ops/optional-dependency.js';
import { messageId, routingKey } from './broker-names.js';
import type { RabbitSinkConfig, SinkMessage, SinkPublisher } from './sink-config.js';

const asError = (err: unknown): Error => (err instanceof Error ? err : new Error(String(err)));

/**
 * Connects a RabbitMQ sink: one connection, one confirm channel, the topic exchange declared
 * (durable) if missing. Every error of the connection or channel is caught here and turned into
 * `lost` (an unhandled `error` event would end the process). Needs the optional `amqplib`.
 */
export async function connectRabbitmq(config: RabbitSinkConfig): Promise<SinkPublisher> {
  const amqp = await importOptional('A RabbitMQ sink', 'amqplib', ['amqplib'], () => import('amqplib'));
  const conn = await amqp.connect(config.url, { timeout: 10_000 });
  let markLost: (err: Error) => void = () => undefined;
  const lost = new Promise<Error>((resolve) => (markLost = resolve));
  conn.on('error', (err: unknown) => markLost(asError(err)));
  conn.on('close', (err: unknown) => markLost(asError(err ?? new Error('RabbitMQ connection closed'))));
  try {
    const channel = await conn.createConfirmChannel();
    channel.on('error', (err: unknown) => markLost(asError(err)));
    channel.on('close', () => markLost(new Error('RabbitMQ channel closed')));
    await channel.assertExchange(config.exchange, 'topic', { durable: true });
    return {
      lost,
      publish: async (messages: readonly SinkMessage[]) => {
        for (const m of messages) {
          const ok = channel.publish(
            config.exchange,
            routingKey(m.scope, m.collection),
            Buffer.from(m.body),
            {
              persistent: true,
              contentType: 'application/json',
              messageId: messageId(m.scope, m.version),
              headers: {
                'syncline-scope': m.scope,
                'syncline-collection': m.collection,
                'syncline-version': m.version,
              },
            },
          );
          // The socket buffer is full: wait until it drains (or the connection goes).
          if (!ok) await Promise.race([new Promise((r) => channel.once('drain', r)), lost]);
        }
        // Resolves once the broker confirmed every message published on the channel so far;
        // rejects when one was nacked or the channel closed first.
        await Promise.race([channel.waitForConfirms(), lost.then((err) => Promise.reject(err))]);
      },
      close: async () => {
        await conn.close().catch(() => undefined);
      },
    };
  } catch (err) {
    await conn.close().catch(() => undefined);
    throw err;
  }
}
