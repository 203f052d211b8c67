import { importOptional } from '../ops/optional-dependency.js';
import { connectNats } from './nats-publisher.js';
import { connectRabbitmq } from './rabbitmq-publisher.js';
import type { SinkConfig, SinkPublisher } from './sink-config.js';
import { SinkRunner, type SinkRunnerDeps } from './sink-runner.js';

/** What the sinks share: a runner's dependencies but its broker connection. */
export type SinksDeps = Omit<SinkRunnerDeps<SinkConfig>, 'connect' | 'lockRetryMs'>;

/** The broker connection of a sink's kind. */
export function connectSink(config: SinkConfig): Promise<SinkPublisher> {
  switch (config.kind) {
    case 'rabbitmq':
      return connectRabbitmq(config);
    case 'nats':
      return connectNats(config);
  }
}

/**
 * Imports the drivers `configs` need, so a missing one fails at start with its
 * `MissingDependencyError` (`missing_dependency`, naming the `npm install` line) instead of in
 * the sink's log. The CLI calls it before starting the server.
 */
export async function checkSinkDrivers(configs: readonly SinkConfig[]): Promise<void> {
  for (const kind of new Set(configs.map((c) => c.kind))) {
    switch (kind) {
      case 'rabbitmq':
        await importOptional('A RabbitMQ sink', 'amqplib', ['amqplib'], () => import('amqplib'));
        break;
      case 'nats':
        await importOptional('A NATS sink', 'nats', ['nats'], () => import('nats'));
        break;
    }
  }
}

/** The running sinks of a server. */
export interface Sinks {
  /** Resolves once each sink's first registration attempt ended (see `SinkRunner.ready`). */
  ready(): Promise<void>;
  /** Stops every sink (each after its current broker call). */
  stop(): Promise<void>;
}

/** Starts one `SinkRunner` per configured sink. */
export function startSinks(configs: readonly SinkConfig[], deps: SinksDeps): Sinks {
  const runners = configs.map((config) => new SinkRunner(config, { ...deps, connect: connectSink }));
  for (const runner of runners) runner.start();
  return {
    ready: async () => {
      await Promise.all(runners.map((r) => r.ready));
    },
    stop: async () => {
      await Promise.all(runners.map((r) => r.stop()));
    },
  };
}
