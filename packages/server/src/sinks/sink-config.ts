import type { FeedChange } from '@syncline/protocol';

/**
 * Reshapes or filters one committed change before a sink publishes it: return the message body
 * (any JSON-serializable value; the change itself when you only drop fields), or `null` to drop
 * the change (its cursor still advances). It may be async. A throw is retried with backoff like
 * a broker failure: the sink never skips a change because its transform failed.
 */
export type SinkTransform = (change: FeedChange) => unknown;

/** Options every sink kind shares. */
export interface SinkCommonConfig {
  /**
   * The sink's name: its stored cursor and its cluster lock are keyed by it, and it is the
   * `sink` label of its metrics. Renaming a sink starts it again from the retained history.
   */
  readonly name: string;
  /**
   * Where a sink seen for the first time starts (default `'start'`): `'start'` publishes the
   * retained history of every scope, `'now'` only what is committed from its first start on
   * (see `SyncStorage.registerSink`). Once registered, a sink resumes from its stored cursors.
   */
  readonly from?: 'start' | 'now';
  /** Runs on each change before it is published (see `SinkTransform`). */
  readonly transform?: SinkTransform;
  /** Changes per broker round (published together, then confirmed; default 200). */
  readonly batchSize?: number;
  /** First delay after a failure (default 500 ms); doubles up to `retryMaxMs` (default 30 s). */
  readonly retryMinMs?: number;
  readonly retryMaxMs?: number;
}

/**
 * Publishes to a RabbitMQ topic exchange (declared durable if missing), one persistent message
 * per change with routing key `<scope>.<collection>` (see `routingKey`), through a confirm
 * channel: the cursor moves only once the broker confirmed.
 */
export interface RabbitSinkConfig extends SinkCommonConfig {
  readonly kind: 'rabbitmq';
  /** `amqp://user:password@host:port/vhost` (or `amqps://`). */
  readonly url: string;
  readonly exchange: string;
}

/**
 * Publishes to NATS JetStream, subject `<subjectPrefix>.<scope>.<collection>` (see
 * `natsSubject`), with `Nats-Msg-Id: <scope>:<version>` so JetStream drops re-sent duplicates
 * within its duplicate window; the cursor moves only once JetStream acknowledged. The stream is
 * created (subjects `<subjectPrefix>.>`) if it does not exist.
 */
export interface NatsSinkConfig extends SinkCommonConfig {
  readonly kind: 'nats';
  /** `nats://host:port`, or several. */
  readonly servers: string | readonly string[];
  readonly stream: string;
  readonly subjectPrefix: string;
}

/** One configured sink (`SyncServerOptions.sinks`). */
export type SinkConfig = RabbitSinkConfig | NatsSinkConfig;

/** One message as a publisher sends it. */
export interface SinkMessage {
  readonly scope: string;
  readonly collection: string;
  readonly version: number;
  /** When the change was committed (ms since the epoch), for delivery latency. */
  readonly serverTime: number;
  /** JSON text of the (transformed) change. */
  readonly body: string;
}

/** What a broker driver does for a sink. */
export interface SinkPublisher {
  /**
   * Publishes `messages` in order and resolves once the broker confirmed every one of them;
   * rejects if any was not confirmed (the runner then re-sends from its stored cursor).
   */
  publish(messages: readonly SinkMessage[]): Promise<void>;
  /** Resolves when the connection is lost (the runner reconnects); never rejects. */
  readonly lost: Promise<Error>;
  close(): Promise<void>;
}
