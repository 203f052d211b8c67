import { asVersion, type FeedChange, type ScopeId } from '@syncline/protocol';
import { backoffDelay, type Backoff } from '../cluster/backoff.js';
import { ChangeFeedError, readChangeFeed, type ChangeFeedDeps } from '../feed/change-feed.js';
import type { Clock } from '../ops/clock.js';
import type { Logger } from '../ops/logger.js';
import type { ServerMetrics } from '../ops/metrics.js';
import { MissingDependencyError } from '../ops/optional-dependency.js';
import type { Timers } from '../ops/timers.js';
import type { StorageLock, SyncStorage } from '../storage/storage.js';
import type { SinkCommonConfig, SinkMessage, SinkPublisher } from './sink-config.js';
import { failsAt as at, SinkFailure } from './sink-failure.js';
import { closeWithin, unlessAborted } from './broker-calls.js';
import { SinkProgress } from './sink-progress.js';

/** What a runner needs of a sink's configuration: the common options and a kind for its logs. */
export type RunnerConfig = SinkCommonConfig & { readonly kind: string };

export interface SinkRunnerDeps<C extends RunnerConfig> {
  readonly storage: SyncStorage;
  readonly feed: ChangeFeedDeps;
  readonly metrics: ServerMetrics;
  readonly logger: Logger;
  readonly clock: Clock;
  readonly timers: Timers;
  /** Opens the broker connection of this sink's kind. */
  readonly connect: (config: C) => Promise<SinkPublisher>;
  /** How often a standby node tries to take the sink's lock (default: the feed's poll interval). */
  readonly lockRetryMs?: number;
}

/** Scopes read from the backlog per look at storage. */
const BACKLOG_PAGE = 100;
/**
 * How long an idle sink sleeps on storage that serves one process (no `tryLock`): every commit
 * there passes this node's commit bus and wakes it, so the look at the backlog (a scan of the
 * scopes) is only a safety net. Shared storage is looked at every feed poll interval, for the
 * other nodes' commits.
 */
const SINGLE_NODE_IDLE_MS = 60_000;
/** How long closing a broker connection may take before the runner stops waiting for it. */
const CLOSE_TIMEOUT_MS = 2_000;

/**
 * Runs one sink: takes its cluster lock (when the storage has locks), connects to the broker,
 * and publishes every committed change, scope by scope in version order, storing the sink's
 * cursor for a scope only after the broker confirmed. Any failure (broker down, connection lost,
 * storage error, a throwing transform) ends the round: the connection and the lock are given up
 * and the next round starts after a backoff delay, from the stored cursors, so nothing is skipped
 * and what was published but not yet recorded is published again (the brokers' deduplication and
 * consumers' (scope, version) check absorb it). Never throws; `stop()` ends it.
 *
 * Before its first round the runner registers the sink (`SyncStorage.registerSink`, from the
 * config's `from`), retried like any failed round until it succeeds.
 */
export class SinkRunner<C extends RunnerConfig> {
  readonly #config: C;
  readonly #deps: SinkRunnerDeps<C>;
  readonly #stop = new AbortController();
  readonly #backoff: Backoff;
  readonly #label: { sink: string };
  #done: Promise<void> | undefined;
  #dirty = true;
  #wake: (() => void) | undefined;
  #registered = false;
  readonly #ready: Promise<void>;
  #firstAttemptEnded: () => void = () => undefined;
  readonly #progress: SinkProgress;

  constructor(config: C, deps: SinkRunnerDeps<C>) {
    this.#config = config;
    this.#deps = deps;
    this.#label = { sink: config.name };
    this.#progress = new SinkProgress(deps.metrics, this.#label);
    this.#ready = new Promise<void>((resolve) => (this.#firstAttemptEnded = resolve));
    this.#backoff = { minMs: config.retryMinMs ?? 500, maxMs: config.retryMaxMs ?? 30_000, jitter: true };
  }

  start(): void {
    this.#deps.metrics.sinkActive.set(this.#label, 0);
    const unsubscribe = this.#deps.feed.commits.subscribe((event) => {
      this.#progress.committed(event.changes.length);
      this.#poke();
    });
    this.#done = this.#main().finally(() => {
      unsubscribe();
      this.#progress.passed();
    });
  }

  /** Resolves once the first attempt to register the sink ended, registered or not. */
  get ready(): Promise<void> {
    return this.#ready;
  }

  /** Committed changes the sink has yet to publish (see `SinkProgress.lag`). */
  get lag(): number {
    return this.#progress.lag;
  }

  /**
   * Resolves once the sink's backlog is empty (everything committed before the call is
   * published, dropped by its transform, or given up by its publisher), by this node or by the
   * one holding the sink's lock; or once the runner stopped.
   */
  async settled(): Promise<void> {
    await this.ready;
    while (!this.#stop.signal.aborted) {
      const pass = this.#progress.nextPass();
      const empty =
        this.#registered && (await this.#deps.storage.sinkBacklog(this.#config.name, 1)).length === 0;
      if (empty) return;
      await pass;
    }
  }

  /** Ends the sink: the round in progress stops after its current broker call; resolves when it did. */
  async stop(): Promise<void> {
    this.#stop.abort();
    this.#poke();
    await this.#done;
  }

  #poke(): void {
    this.#dirty = true;
    const w = this.#wake;
    this.#wake = undefined;
    w?.();
  }

  /** Waits `ms`, or less when poked (a commit, or `stop()`). */
  #sleep(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const timer = this.#deps.timers.setTimeout(() => this.#poke(), ms);
      this.#wake = () => {
        this.#deps.timers.clearTimeout(timer);
        resolve();
      };
    });
  }

  async #main(): Promise<void> {
    const { logger, metrics } = this.#deps;
    let failures = 0;
    while (!this.#stop.signal.aborted) {
      try {
        if (!this.#registered) await this.#register();
        const ran = await this.#round();
        if (ran) failures = 0;
      } catch (err) {
        if (this.#stop.signal.aborted) break;
        if (err instanceof SinkFailure && err.cause instanceof MissingDependencyError) {
          // Installing the driver does not help this process: say so once and stop.
          metrics.sinkErrors.inc({ ...this.#label, stage: 'connect' });
          logger.error('sink cannot start', { sink: this.#config.name, err: err.cause });
          return;
        }
        const stage = err instanceof SinkFailure ? err.stage : 'publish';
        const delay = backoffDelay(this.#backoff, failures++);
        metrics.sinkErrors.inc({ ...this.#label, stage });
        logger.warn('sink failed; retrying', {
          sink: this.#config.name,
          stage,
          err,
          retryInMs: Math.round(delay),
        });
        this.#progress.passed();
        await this.#sleepUnpoked(delay);
      }
    }
  }

  async #register(): Promise<void> {
    try {
      const { name, from = 'start' } = this.#config;
      const now = await at('storage', this.#deps.storage.registerSink(name, from));
      this.#registered = true;
      if (now) this.#deps.logger.info('sink registered', { sink: name, from });
    } finally {
      this.#firstAttemptEnded();
    }
  }

  /** A backoff delay that a commit does not cut short (only `stop()` does). */
  async #sleepUnpoked(ms: number): Promise<void> {
    const until = this.#deps.clock.now() + ms;
    while (!this.#stop.signal.aborted) {
      const left = until - this.#deps.clock.now();
      if (left <= 0) return;
      await this.#sleep(left);
    }
  }

  /** One round: lock, connect, publish until stopped or failed. False when another node runs the sink. */
  async #round(): Promise<boolean> {
    const { storage, metrics, logger } = this.#deps;
    const lockLost = new AbortController();
    let lock: StorageLock | undefined;
    if (storage.tryLock) {
      lock = await at(
        'storage',
        storage.tryLock(`sink:${this.#config.name}`, (err) => {
          lockLost.abort(err);
          this.#poke();
        }),
      );
      if (!lock) {
        this.#progress.passed();
        await this.#sleepUnpoked(this.#deps.lockRetryMs ?? this.#deps.feed.pollIntervalMs);
        return false;
      }
    }
    let publisher: SinkPublisher | undefined;
    try {
      const signal = AbortSignal.any([this.#stop.signal, lockLost.signal]);
      const connecting = this.#deps.connect(this.#config);
      publisher = await at(
        'connect',
        unlessAborted(this.#stop.signal, connecting).catch((err: unknown) => {
          // Stopped while connecting: a connection that opens later is closed at once.
          void connecting
            .then(
              (late) => late.close(),
              () => undefined,
            )
            .catch(() => undefined);
          throw err;
        }),
      );
      metrics.sinkActive.set(this.#label, 1);
      logger.info('sink running', { sink: this.#config.name, kind: this.#config.kind });
      void publisher.lost.then(() => this.#poke());
      await this.#pump(publisher, signal);
      if (lockLost.signal.aborted) throw new SinkFailure('storage', lockLost.signal.reason);
      return true;
    } finally {
      metrics.sinkActive.set(this.#label, 0);
      if (publisher) await closeWithin(publisher, this.#deps.timers, CLOSE_TIMEOUT_MS);
      await lock?.release().catch(() => undefined);
    }
  }

  async #pump(publisher: SinkPublisher, signal: AbortSignal): Promise<void> {
    const { storage } = this.#deps;
    let brokerLost: Error | undefined;
    void publisher.lost.then((err) => (brokerLost = err));
    while (!signal.aborted) {
      if (brokerLost) throw new SinkFailure('connect', brokerLost);
      this.#dirty = false;
      const backlog = await at('storage', storage.sinkBacklog(this.#config.name, BACKLOG_PAGE));
      this.#progress.setLag(backlog.reduce((n, e) => n + e.head - e.cursor, 0));
      for (const entry of backlog) {
        if (signal.aborted) return;
        await this.#drainScope(publisher, entry.scope, entry.cursor, signal);
      }
      if (backlog.length > 0 || this.#dirty || signal.aborted) continue;
      this.#progress.passed();
      await this.#sleep(storage.tryLock ? this.#deps.feed.pollIntervalMs : SINGLE_NODE_IDLE_MS);
    }
  }

  /** Publishes `scope`'s changes after `cursor` up to its head, a batch at a time. */
  async #drainScope(
    publisher: SinkPublisher,
    scope: ScopeId,
    cursor: number,
    signal: AbortSignal,
  ): Promise<void> {
    const { storage, logger, metrics } = this.#deps;
    const size = this.#config.batchSize ?? 200;
    let batch: FeedChange[] = [];
    let stored = cursor;
    const flush = async () => {
      if (batch.length === 0) return;
      const changes = batch;
      batch = [];
      await this.#publish(publisher, changes);
      const last = changes[changes.length - 1]!.version;
      await at('storage', storage.setSinkCursor(this.#config.name, scope, last));
      this.#progress.published(last - stored);
      stored = last;
    };
    try {
      for await (const event of readChangeFeed(this.#deps.feed, scope, cursor, { signal, follow: false })) {
        if (event.type === 'caught_up') break;
        batch.push(event.change);
        if (batch.length >= size) await flush();
      }
      await flush();
    } catch (err) {
      if (!(err instanceof ChangeFeedError) || err.error.code !== 'cursor_unavailable') {
        throw err instanceof SinkFailure ? err : new SinkFailure('storage', err);
      }
      // What was read before the hole is published first; then the sink moves past it.
      await flush();
      const details = err.error.details ?? {};
      const resumeAfter = typeof details.resumeAfter === 'number' ? details.resumeAfter : details.head;
      if (typeof resumeAfter !== 'number') throw new SinkFailure('storage', err);
      metrics.sinkErrors.inc({ ...this.#label, stage: 'retention' });
      logger.error(
        'sink cannot publish changes retention removed (or the database was restored); moving on',
        {
          sink: this.#config.name,
          scope,
          err,
          resumeAfter,
        },
      );
      await at('storage', storage.setSinkCursor(this.#config.name, scope, asVersion(resumeAfter)));
    }
  }

  async #publish(publisher: SinkPublisher, changes: readonly FeedChange[]): Promise<void> {
    const { clock, metrics } = this.#deps;
    const messages: SinkMessage[] = [];
    for (const change of changes) {
      const { transform } = this.#config;
      const shaped = transform
        ? await at(
            'transform',
            Promise.resolve().then(() => transform(change)),
          )
        : change;
      if (shaped === null) continue;
      const body = JSON.stringify(shaped);
      if (body === undefined)
        throw new SinkFailure('transform', new Error('transform returned a value JSON cannot encode'));
      messages.push({
        scope: change.scope,
        collection: change.collection,
        version: change.version,
        serverTime: change.serverTime,
        body,
      });
    }
    if (messages.length > 0)
      await at('publish', unlessAborted(this.#stop.signal, publisher.publish(messages)));
    const now = clock.now();
    for (const change of changes)
      metrics.sinkLatency.observe(this.#label, Math.max(0, now - change.serverTime) / 1000);
    metrics.sinkPublished.inc(this.#label, messages.length);
  }
}
