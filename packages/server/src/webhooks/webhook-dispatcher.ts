import type { FeedChange } from '@syncline/protocol';
import type { ChangeFeedDeps } from '../feed/change-feed.js';
import { SinkRunner, type RunnerConfig } from '../sinks/sink-runner.js';
import type { SyncStorage } from '../storage/storage.js';
import type { CollectionsConfig, WebhookConfig } from '../sync/collections.js';
import { WebhookPublisher, type WebhookPublisherDeps } from './webhook-publisher.js';

/** What the webhooks need: what delivering one needs, and where to read the changes from. */
export interface WebhookDeps extends WebhookPublisherDeps {
  readonly collections: CollectionsConfig;
  readonly storage: SyncStorage;
  readonly feed: ChangeFeedDeps;
}

/** The sink name of a collection's webhook: its cursors and its cluster lock are keyed by it. */
export const webhookSinkName = (collection: string): string => `webhook:${collection}`;

type WebhookRunnerConfig = RunnerConfig & { readonly kind: 'webhook' };

/**
 * Sends every committed change of a collection that has a webhook to its URL. Each webhook is a
 * sink (`SinkRunner`, docs/sinks.md) whose publisher is an HTTP POST (`WebhookPublisher`): it
 * reads the history from its own stored cursor per scope, so a change committed is delivered
 * even if the server stops or crashes before delivering it (at-least-once, also across
 * restarts); on PostgreSQL one node at a time delivers (the sink's lock), the others take over
 * when it dies. A re-delivery carries the same `idempotency-key` (`<scope>@<version>`), so
 * receivers deduplicate by it. Delivery never delays a push: it reads what was committed.
 */
export class WebhookDispatcher {
  readonly #runners = new Map<string, SinkRunner<WebhookRunnerConfig>>();

  constructor(deps: WebhookDeps) {
    for (const [collection, hook] of Object.entries(deps.collections)) {
      if (!hook.webhook) continue;
      this.#runners.set(collection, webhookRunner(collection, hook.webhook, deps));
    }
    for (const runner of this.#runners.values()) runner.start();
  }

  /** Resolves once each webhook registered its sink (or failed to; it retries on its own). */
  async ready(): Promise<void> {
    await Promise.all([...this.#runners.values()].map((r) => r.ready));
  }

  /** Committed changes each webhook has yet to pass (deliver, give up, or skip as another collection's). */
  depths(): ReadonlyMap<string, number> {
    return new Map([...this.#runners].map(([name, r]) => [name, r.lag]));
  }

  /** Resolves once every change committed so far was delivered or given up. */
  async idle(): Promise<void> {
    await Promise.all([...this.#runners.values()].map((r) => r.settled()));
  }

  /** Stops delivering (an attempt in flight is aborted); what is left is delivered after a restart. */
  async stop(): Promise<void> {
    await Promise.all([...this.#runners.values()].map((r) => r.stop()));
  }
}

function webhookRunner(
  collection: string,
  hook: WebhookConfig,
  deps: WebhookDeps,
): SinkRunner<WebhookRunnerConfig> {
  const config: WebhookRunnerConfig = {
    kind: 'webhook',
    name: webhookSinkName(collection),
    from: hook.from ?? 'now',
    // Per-scope cursors cover every collection: the others' changes are passed over.
    transform: (change: FeedChange) => (change.collection === collection ? change : null),
    // Messages are POSTed one by one; a small batch stores the cursor after few deliveries.
    batchSize: 20,
  };
  return new SinkRunner(config, {
    ...deps,
    connect: () => Promise.resolve(new WebhookPublisher(collection, hook, deps)),
  });
}
