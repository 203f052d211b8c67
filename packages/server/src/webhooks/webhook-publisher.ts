import type { Clock } from '../ops/clock.js';
import type { Logger } from '../ops/logger.js';
import type { ServerMetrics } from '../ops/metrics.js';
import type { TimerHandle, Timers } from '../ops/timers.js';
import type { SinkMessage, SinkPublisher } from '../sinks/sink-config.js';
import type { WebhookConfig } from '../sync/collections.js';
import { SIGNATURE_HEADER, signWebhook } from './webhook-signature.js';

/** What delivering a collection's webhook needs from the server. */
export interface WebhookPublisherDeps {
  readonly timers: Timers;
  readonly clock: Clock;
  readonly metrics: ServerMetrics;
  readonly logger: Logger;
  readonly fetch: typeof fetch;
  /** Jitter source for retry delays, 0 ≤ x < 1. */
  readonly random: () => number;
}

const DEFAULTS = { maxAttempts: 12, retryDelayMs: 1000, maxDelayMs: 300_000, timeoutMs: 10_000 } as const;

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

type Outcome = 'success' | 'http_error' | 'network_error';

/**
 * A collection's webhook as a sink publisher: each message is POSTed on its own, in order, and
 * retried after `webhookRetryDelay` until a 2xx answer (a network error, a timeout, a non-2xx
 * answer or a redirect fails the attempt). After `maxAttempts` the change is given up (logged,
 * counted) and the next one goes: `publish` resolves once every message was delivered or given
 * up, and only then does the runner store its cursor, so a stop or a crash mid-way re-delivers
 * from there. `close()` aborts the attempt in flight and the pending retry.
 */
export class WebhookPublisher implements SinkPublisher {
  /** HTTP has no connection to lose: each attempt stands alone. */
  readonly lost = new Promise<Error>(() => undefined);
  readonly #closed = new AbortController();
  readonly #label: { readonly collection: string };

  constructor(
    private readonly collection: string,
    private readonly config: WebhookConfig,
    private readonly deps: WebhookPublisherDeps,
  ) {
    this.#label = { collection: deps.metrics.collection(collection) };
  }

  async publish(messages: readonly SinkMessage[]): Promise<void> {
    for (const message of messages) await this.#deliver(message);
  }

  close(): Promise<void> {
    this.#closed.abort();
    return Promise.resolve();
  }

  async #deliver(message: SinkMessage): Promise<void> {
    const { deps, config } = this;
    for (let attempt = 1; ; attempt++) {
      if (this.#closed.signal.aborted) throw new Error('webhook closed');
      const { outcome, detail } = await this.#attempt(message, attempt);
      if (this.#closed.signal.aborted) throw new Error('webhook closed');
      deps.metrics.webhookAttempts.inc({ ...this.#label, outcome });
      if (outcome === 'success') {
        deps.metrics.webhookDeliveries.inc({ ...this.#label, result: 'delivered' });
        const latency = Math.max(0, deps.clock.now() - message.serverTime) / 1000;
        deps.metrics.webhookLatency.observe(this.#label, latency);
        return;
      }
      const fields = {
        collection: this.collection,
        scope: message.scope,
        version: message.version,
        attempt,
        detail,
      };
      if (attempt >= (config.maxAttempts ?? DEFAULTS.maxAttempts)) {
        deps.metrics.webhookDeliveries.inc({ ...this.#label, result: 'gave_up' });
        deps.logger.error('webhook delivery given up; replay it from the change feed', fields);
        return;
      }
      const delay = webhookRetryDelay(attempt, config, deps.random);
      deps.logger.warn('webhook delivery failed; retrying', { ...fields, retryInMs: delay });
      await this.#sleep(delay);
    }
  }

  #sleep(ms: number): Promise<void> {
    const signal = this.#closed.signal;
    if (signal.aborted) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const handle: TimerHandle = this.deps.timers.setTimeout(done, ms);
      signal.addEventListener('abort', done, { once: true });
      const timers = this.deps.timers;
      function done(): void {
        timers.clearTimeout(handle);
        signal.removeEventListener('abort', done);
        resolve();
      }
    });
  }

  async #attempt(message: SinkMessage, attempt: number): Promise<{ outcome: Outcome; detail: string }> {
    const { deps, config } = this;
    const controller = new AbortController();
    const abort = () => controller.abort();
    this.#closed.signal.addEventListener('abort', abort, { once: true });
    const timeout = deps.timers.setTimeout(abort, config.timeoutMs ?? DEFAULTS.timeoutMs);
    try {
      const res = await deps.fetch(config.url, {
        method: 'POST',
        redirect: 'manual',
        signal: controller.signal,
        headers: {
          'content-type': 'application/json',
          'user-agent': 'syncline-webhook',
          'idempotency-key': `${message.scope}@${message.version}`,
          'syncline-scope': message.scope,
          'syncline-version': String(message.version),
          'syncline-delivery-attempt': String(attempt),
          [SIGNATURE_HEADER]: signWebhook(config.secret, deps.clock.now(), message.body),
        },
        body: message.body,
      });
      // Read the answer to the end so the connection can be reused.
      await res.arrayBuffer().catch(() => undefined);
      const ok = res.status >= 200 && res.status < 300;
      return { outcome: ok ? 'success' : 'http_error', detail: `HTTP ${res.status}` };
    } catch (err) {
      return { outcome: 'network_error', detail: err instanceof Error ? err.message : String(err) };
    } finally {
      deps.timers.clearTimeout(timeout);
      this.#closed.signal.removeEventListener('abort', abort);
    }
  }
}
