import { importOptional } from '../ops/optional-dependency.js';
import { messageId, natsSubject } from './broker-names.js';
import type { NatsSinkConfig, SinkMessage, SinkPublisher } from './sink-config.js';

/** How long one publish waits for JetStream's acknowledgement. */
const ACK_TIMEOUT_MS = 10_000;

/**
 * Connects a NATS JetStream sink and makes sure its stream exists (subjects
 * `<subjectPrefix>.>`; an existing stream is used as it is). The client's own reconnection is
 * off: the sink's runner reconnects with its backoff and re-sends from its cursor. Needs the
 * optional `nats` package.
 */
export async function connectNats(config: NatsSinkConfig): Promise<SinkPublisher> {
  const nats = await importOptional('A NATS sink', 'nats', ['nats'], () => import('nats'));
  const servers = typeof config.servers === 'string' ? [config.servers] : [...config.servers];
  const nc = await nats.connect({
    servers,
    reconnect: false,
    timeout: 10_000,
    name: `syncline-sink-${config.name}`,
  });
  const lost = nc.closed().then((err) => err ?? new Error('NATS connection closed'));
  // A request in flight when the connection drops would wait out its own timeout (10 s of a
  // stalled sink): fail it as soon as the connection is known to be gone.
  const unlessLost = <T>(p: Promise<T>): Promise<T> =>
    Promise.race([
      p,
      lost.then((err) => {
        throw err;
      }),
    ]);
  try {
    const jsm = await unlessLost(nc.jetstreamManager());
    try {
      await unlessLost(jsm.streams.info(config.stream));
    } catch (err) {
      if ((err as { code?: unknown }).code !== '404') throw err;
      await unlessLost(jsm.streams.add({ name: config.stream, subjects: [`${config.subjectPrefix}.>`] }));
    }
    const js = nc.jetstream();
    const codec = nats.StringCodec();
    return {
      lost,
      publish: async (messages: readonly SinkMessage[]) => {
        // Sent back to back on one connection (so in order), acknowledged together.
        const acks = messages.map((m) => {
          const h = nats.headers();
          h.set('Syncline-Scope', m.scope);
          h.set('Syncline-Collection', m.collection);
          h.set('Syncline-Version', String(m.version));
          return js.publish(natsSubject(config.subjectPrefix, m.scope, m.collection), codec.encode(m.body), {
            msgID: messageId(m.scope, m.version),
            headers: h,
            timeout: ACK_TIMEOUT_MS,
          });
        });
        // allSettled: a rejection left unawaited would be an unhandled one.
        const failed = (await unlessLost(Promise.allSettled(acks))).find((r) => r.status === 'rejected');
        if (failed) throw failed.reason;
      },
      close: async () => {
        if (!nc.isClosed()) await nc.close().catch(() => undefined);
      },
    };
  } catch (err) {
    await nc.close().catch(() => undefined);
    throw err;
  }
}
