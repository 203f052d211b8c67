import type { FeedChange } from '@syncline/protocol';
import type { Clock } from '../ops/clock.js';
import type { Logger } from '../ops/logger.js';
import type { ServerMetrics } from '../ops/metrics.js';
import type { TimerHandle, Timers } from '../ops/timers.js';
import type { CollectionsConfig, WebhookConfig } from '../sync/collections.js';
import type { CommitBus } from '../sync/commit-bus.js';
import { toFeedChange } from '../feed/change-feed.js';
import { SIGNATURE_HEADER, signWebhook } from './webhook-signature.js';

export interface WebhookDeps {
  readonly collections: CollectionsConfig;
  readonly commits: CommitBus;
  readonly timers: Timers;
  readonly clock: Clock;
  readonly metrics: ServerMetrics;
  readonly logger: Logger;
  readonly fetch: typeof fetch;
  /** Jitter source for retry delays, 0 ≤ x < 1. */
  readonly random: () => number;
}

const DEFAULTS = {
  maxAttempts: 12,
  retryDelayMs: 1000,
  maxDelayMs: 300_000,
  timeoutMs: 10_000,
  maxQueue: 10_000,
} as const;

/**
 * The delay before retry number `attempt` (1 = the first retry): `retryDelayMs · 2^(attempt-1)`
 * capped at `maxDelayMs`, then jittered into its upper half so receivers recovering from an
 * outage are not hit by every sender at the same instant.
 */
export function webhookRetryDelay(
  attempt: number,
  config: Pick<WebhookConfig, 'retryDelayMs' | 'maxDelayMs'>,
  random: () => number,
): number {
  const base = config.retryDelayMs ?? DEFAULTS.retryDelayMs;
  const cap = config.maxDelayMs ?? DEFAULTS.maxDelayMs;
  const delay = Math.min(cap, base * 2 ** Math.min(attempt - 1, 40));
  return Math.round(delay / 2 + (random() * delay) / 2);
}

interface Delivery {
  readonly change: FeedChange;
  readonly body: string;
  /** Clock time of the commit, for the delivery latency metric. */
  readonly committedAt: number;
  attempts: number;
}

/**
 * One collection's webhook: a FIFO of committed changes delivered one at a time, in commit
 * order. A failed attempt (network error, timeout, non-2xx answer, redirect) is retried after
 * `webhookRetryDelay`; the head of the queue waits for it, so a receiver sees each scope's
 * changes in version order (re-deliveries excepted). After `maxAttempts` the change is given up,
 * logged as an error and counted.
 */
class WebhookQueue {
  readonly #items: Delivery[] = [];
  #busy = false;
  #stopped = false;
  /** The pending retry of the head, if one is scheduled. */
  #retry: { readonly handle: TimerHandle } | undefined;
  #inflight: AbortController | undefined;
  #idle: (() => void)[] = [];

  constructor(
    private readonly collection: string,
    private readonly config: WebhookConfig,
    private readonly deps: WebhookDeps,
  ) {}

  get depth(): number {
    return this.#items.length;
  }

  enqueue(change: FeedChange): void {
    if (this.#stopped) return;
    const label = { collection: this.deps.metrics.collection(this.collection) };
    if (this.#items.length >= (this.config.maxQueue ?? DEFAULTS.maxQueue)) {
      this.deps.metrics.webhookDeliveries.inc({ ...label, result: 'dropped' });
      this.deps.logger.error('webhook queue full; change dropped', {
        collection: this.collection,
        scope: change.scope,
        version: change.version,
      });
      return;
    }
    this.#items.push({
      change,
      body: JSON.stringify(change),
      committedAt: this.deps.clock.now(),
      attempts: 0,
    });
    this.#pump();
  }

  /** Resolves once nothing is queued or in flight. */
  idle(): Promise<void> {
    if (this.#items.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idle.push(resolve));
  }

  /** Cancels the pending retry and the attempt in flight; queued changes are not delivered. */
  stop(): number {
    this.#stopped = true;
    if (this.#retry) this.deps.timers.clearTimeout(this.#retry.handle);
    this.#retry = undefined;
    this.#inflight?.abort();
    const lost = this.#items.length;
    this.#items.length = 0;
    for (const resolve of this.#idle.splice(0)) resolve();
    return lost;
  }

  #pump(): void {
    if (this.#busy || this.#stopped || this.#retry) return;
    const head = this.#items[0];
    if (!head) {
      for (const resolve of this.#idle.splice(0)) resolve();
      return;
    }
    this.#busy = true;
    void this.#attempt(head).finally(() => {
      this.#busy = false;
      this.#pump();
    });
  }

  async #attempt(d: Delivery): Promise<void> {
    const { deps, config } = this;
    const label = { collection: deps.metrics.collection(this.collection) };
    d.attempts++;
    const controller = new AbortController();
    this.#inflight = controller;
    const timeout = deps.timers.setTimeout(() => controller.abort(), config.timeoutMs ?? DEFAULTS.timeoutMs);
    let outcome: 'success' | 'http_error' | 'network_error';
    let detail: string;
    try {
      const res = await deps.fetch(config.url, {
        method: 'POST',
        redirect: 'manual',
        signal: controller.signal,
        headers: {
          'content-type': 'application/json',
          'user-agent': 'syncline-webhook',
          'idempotency-key': `${d.change.scope}@${d.change.version}`,
          'syncline-scope': d.change.scope,
          'syncline-version': String(d.change.version),
          'syncline-delivery-attempt': String(d.attempts),
          [SIGNATURE_HEADER]: signWebhook(config.secret, deps.clock.now(), d.body),
        },
        body: d.body,
      });
      // Read the answer to the end so the connection can be reused.
      await res.arrayBuffer().catch(() => undefined);
      outcome = res.status >= 200 && res.status < 300 ? 'success' : 'http_error';
      detail = `HTTP ${res.status}`;
    } catch (err) {
      outcome = 'network_error';
      detail = err instanceof Error ? err.message : String(err);
    } finally {
      deps.timers.clearTimeout(timeout);
      this.#inflight = undefined;
    }
    if (this.#stopped) return;
    deps.metrics.webhookAttempts.inc({ ...label, outcome });
    if (outcome === 'success') {
      this.#items.shift();
      deps.metrics.webhookDeliveries.inc({ ...label, result: 'delivered' });
      deps.metrics.webhookLatency.observe(label, Math.max(0, deps.clock.now() - d.committedAt) / 1000);
      return;
    }
    const fields = {
      collection: this.collection,
      scope: d.change.scope,
      version: d.change.version,
      attempt: d.attempts,
      detail,
    };
    if (d.attempts >= (config.maxAttempts ?? DEFAULTS.maxAttempts)) {
      this.#items.shift();
      deps.metrics.webhookDeliveries.inc({ ...label, result: 'gave_up' });
      deps.logger.error('webhook delivery given up; replay it from the change feed', fields);
      return;
    }
    const delay = webhookRetryDelay(d.attempts, config, deps.random);
    deps.logger.warn('webhook delivery failed; retrying', { ...fields, retryInMs: delay });
    this.#retry = {
      handle: deps.timers.setTimeout(() => {
        this.#retry = undefined;
        this.#pump();
      }, delay),
    };
  }
}

/**
 * Sends every change committed on this node to its collection's webhook, if it has one.
 * Enqueueing happens in the commit callback and costs O(1): delivery never delays a push.
 *
 * At-least-once while the server runs: a change is retried until a 2xx answer or `maxAttempts`,
 * and a re-delivery (lost answer, timeout) carries the same `idempotency-key` —
 * `<scope>@<version>` — so receivers deduplicate by it. Queues live in memory: changes still
 * queued when the server stops or crashes are not delivered; a consumer that cannot miss any
 * reads the change feed from a stored cursor instead.
 */
export class WebhookDispatcher {
  readonly #queues = new Map<string, WebhookQueue>();
  readonly #unsubscribe: () => void;

  constructor(private readonly deps: WebhookDeps) {
    for (const [name, config] of Object.entries(deps.collections)) {
      if (config.webhook) this.#queues.set(name, new WebhookQueue(name, config.webhook, deps));
    }
    this.#unsubscribe =
      this.#queues.size === 0
        ? () => undefined
        : deps.commits.subscribe((event) => {
            for (const change of event.changes)
              this.#queues.get(change.collection)?.enqueue(toFeedChange(change));
          });
  }

  /** Changes waiting per collection (the one in flight included). */
  depths(): ReadonlyMap<string, number> {
    return new Map([...this.#queues].map(([name, q]) => [name, q.depth]));
  }

  /** Resolves once every queue is empty (delivered or given up). */
  async idle(): Promise<void> {
    await Promise.all([...this.#queues.values()].map((q) => q.idle()));
  }

  /** Stops delivering; logs how many queued changes were not delivered. */
  stop(): void {
    this.#unsubscribe();
    for (const [collection, q] of this.#queues) {
      const lost = q.stop();
      if (lost > 0) this.deps.logger.warn('webhook deliveries abandoned at shutdown', { collection, lost });
    }
  }
}
