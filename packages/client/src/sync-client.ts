import { add, liveQuery, type Dexie, type Table } from 'dexie';
import { BehaviorSubject, from, takeUntil, type Observable } from 'rxjs';
import type { HashResponse, JsonValue } from '@syncline/protocol';
import {
  ClientLifetime,
  waitFor,
  whenAcknowledged,
  whenSynced,
  type SyncedReport,
  type WaitOptions,
  type WriteOutcome,
} from './await-sync.js';
import type { AppConflictEntry, AppHistoryEntry, AppKey } from './app-values.js';
import { ClientLeadership } from './client-leadership.js';
import { installOutbox, type InstalledOutbox } from './client-outbox.js';
import { PresenceWiring, type PresenceMember } from './client-presence-wiring.js';
import {
  recordStates$,
  type RecordSyncState,
  type ScopeSyncState,
  type SyncErrorEvent,
} from './client-observables.js';
import { createClientStreams } from './client-streams.js';
import { resolveConflict, type ConflictResolution } from './conflict-resolution.js';
import { clientError } from './errors.js';
import { checkClientOptions } from './options-schema.js';
import { resolveOptions, type ResolvedOptions, type SyncClientOptions } from './resolve-options.js';
import {
  fetchAppHistory,
  fetchServerHash,
  fetchVersion,
  type HistoryPage,
  type RequestContext,
} from './server-requests.js';
import { fetchQuery, type QueryOptions, type QueryResult } from './server-query.js';
import { deleteRejection } from './store/client-queries.js';
import { ensureClientId, localScopeHash } from './store/local-queries.js';
import { LocalStore } from './store/local-store.js';
import type { TxMarkers } from './store/outbox-middleware.js';
import type { OutboxEntry, RejectionEntry } from './store/schema.js';
import { ScopeEviction } from './store/scope-eviction.js';
import { checkSyncedTables } from './store/synced-keys.js';
import type { SyncStatus } from './status.js';
import type { SyncMetrics } from './sync-metrics.js';

export type { SyncClientOptions } from './resolve-options.js';
export type { ConflictResolution, FieldChoice } from './conflict-resolution.js';
export type { PresenceMember } from './client-presence-wiring.js';

/**
 * Syncline on top of an app's Dexie database. Create it before `db.open()` (it installs the
 * outbox middleware), then `start()`. Plain Dexie writes on synced tables are queued and synced.
 * Every method throws or rejects with `SynclineError` only (a refused Dexie write as well).
 */
export class SyncClient {
  readonly db: Dexie;
  readonly status$: Observable<SyncStatus>;
  readonly conflicts$: Observable<AppConflictEntry[]>;
  readonly rejections$: Observable<RejectionEntry[]>;
  /** The outbox, in mid order: every mutation of this device not yet answered by the server. */
  readonly outbox$: Observable<OutboxEntry[]>;
  /**
   * Every error the sync engine meets (connecting, a refused scope or push, a failed request),
   * with its code, message, whether it is retryable, and when. Hot: subscribers get the errors
   * from then on. Errors come from the tab that runs sync (a follower tab's stream is quiet).
   */
  readonly errors$: Observable<SyncErrorEvent>;
  /**
   * Every scope synced or held here: cursor, head heard of, whether its initial sync is done,
   * and the local content hash (recomputed on every change: for tools, not hot paths).
   */
  readonly scopes$: Observable<ScopeSyncState[]>;
  /**
   * This client's sync health: outbox depth and oldest pending age, push latency, result counts
   * and conflict rate, and each scope's lag (head heard of minus durable cursor). Emits on every
   * change and at least every second; engine figures come from the leader tab (a follower tab
   * sees the shared outbox only).
   */
  readonly metrics$: Observable<SyncMetrics>;
  readonly #options: ResolvedOptions;
  readonly #markers: TxMarkers = { remote: new WeakSet(), txn: new WeakMap() };
  readonly #store: LocalStore;
  readonly #leadership: ClientLeadership;
  readonly #outbox: InstalledOutbox;
  readonly #eviction: ScopeEviction;
  readonly #scopes$: BehaviorSubject<readonly string[]>;
  readonly #unsubscribeNetwork: () => void;
  readonly #life: ClientLifetime;
  readonly #requests: RequestContext;
  readonly #presence: PresenceWiring;
  #clientId: string | undefined;

  constructor(db: Dexie, options: SyncClientOptions) {
    if (db.isOpen())
      throw clientError(
        'invalid_config',
        'createSyncClient must run before db.open(): it installs the outbox middleware',
      );
    checkSyncedTables(db, Object.keys(options.tables));
    this.db = db;
    this.#life = new ClientLifetime(db);
    const resolved = (this.#options = resolveOptions(options));
    this.#outbox = installOutbox(db, resolved, this.#markers, (mid, entries) =>
      this.#leadership.engine?.notifyOutbox(mid, entries),
    );
    this.#store = new LocalStore(db, resolved.tableNames, this.#markers, resolved.now);
    this.#eviction = new ScopeEviction(db, this.#store);
    this.#leadership = new ClientLeadership({
      db,
      options: resolved,
      store: this.#store,
      queueCore: this.#outbox.core,
      clientId: () => this.clientId,
      started: () => this.#clientId !== undefined,
      metrics$: () => this.metrics$,
    });
    const online$ = new BehaviorSubject(resolved.network.isOnline());
    this.#unsubscribeNetwork = resolved.network.subscribe(() => online$.next(resolved.network.isOnline()));
    this.#scopes$ = new BehaviorSubject<readonly string[]>(resolved.scopes);
    const streams = createClientStreams(db, this.#leadership, {
      online$,
      scopes$: this.#scopes$,
      closed$: this.#life.closed$,
      now: resolved.now,
    });
    this.outbox$ = streams.outbox$;
    this.conflicts$ = streams.conflicts$;
    this.rejections$ = streams.rejections$;
    this.status$ = streams.status$;
    this.scopes$ = streams.scopes$;
    this.metrics$ = streams.metrics$;
    this.errors$ = this.#leadership.errors$.asObservable();
    this.#requests = {
      db,
      options: resolved,
      clientId: () => this.clientId,
      liveSocket: () => this.#leadership.engine?.socket,
    };
    this.#presence = new PresenceWiring({
      dbName: db.name,
      options: resolved,
      leadership: this.#leadership,
      clientId: () => this.#clientId,
      closed$: this.#life.closed$,
    });
  }

  /** This database's client id (available after `start()`). */
  get clientId(): string {
    if (this.#clientId === undefined) throw clientError('not_started', 'call start() first');
    return this.#clientId;
  }

  /** Opens the database and joins the leader election; the leader tab starts syncing. */
  async start(): Promise<void> {
    if (this.#leadership.joined) return;
    await this.db.open();
    this.#clientId = await ensureClientId(this.db, this.#options.random);
    this.#presence.start();
    this.#leadership.start();
  }

  /** Stops syncing and leaves the election (another tab may take over). The db stays open. */
  async stop(): Promise<void> {
    this.#presence.stop();
    await this.#leadership.stop();
  }

  /** Stops and closes the database. */
  async close(): Promise<void> {
    await this.stop();
    this.#unsubscribeNetwork();
    this.#eviction.stop();
    this.#leadership.complete();
    this.#life.close();
    this.db.close();
  }

  pause(): void {
    this.#leadership.engine?.pause();
  }

  resume(): void {
    this.#leadership.engine?.resume();
  }

  /**
   * Replaces the scopes to sync. A scope left out stops syncing and its local rows are evicted
   * (with its cursor), each row once it has no pending changes; its pending changes still sync.
   */
  setScopes(scopes: readonly string[]): void {
    const removed = this.#scopes$.value.filter((s) => !scopes.includes(s));
    this.#scopes$.next([...scopes]);
    this.#leadership.engine?.setScopes(scopes);
    this.#eviction.update(removed, scopes);
  }

  /**
   * Resolves once the server has answered every mutation queued on this device (in any tab)
   * before the call, with which of them were rejected or went to the conflict inbox. Rejects
   * with a `SynclineError`: `timeout` (after `timeoutMs`), `closed`.
   */
  whenSynced(opts: WaitOptions = {}): Promise<SyncedReport> {
    return this.#life.bound(whenSynced(this.#life), 'sync', opts);
  }

  /** The mid of the newest write made in this tab, for `whenAcknowledged` (0: none yet). */
  lastMid(): number {
    return this.#outbox.lastMid();
  }

  /**
   * Resolves once the server answered mutation `mid` (see `lastMid`): applied (or merged),
   * rejected, or a manual conflict. Rejects with a `SynclineError`: `unknown_mid`, `timeout`,
   * `closed`.
   */
  whenAcknowledged(mid: number, opts: WaitOptions = {}): Promise<WriteOutcome> {
    return this.#life.bound(whenAcknowledged(this.#life, mid), `mid ${mid}`, opts);
  }

  /**
   * Resolves once every current scope has been pulled to its head at least once (at once for
   * a copy synced in an earlier session). Rejects with `timeout` or `closed`.
   */
  async whenInitialSynced(opts: WaitOptions = {}): Promise<void> {
    await waitFor(this.#life, this.status$, (s) => s.initialSync.done, 'the initial sync', opts);
  }

  /**
   * Pulls every scope and pushes the outbox at once (skipping a backoff wait), and resolves when
   * that round is done. Rejects with a `SynclineError`: `offline` (network down or paused),
   * `not_leader` (another tab syncs this database), `not_started`, `timeout`, `closed`.
   */
  syncNow(opts: WaitOptions = {}): Promise<void> {
    return this.#life.bound(this.#leadership.syncNow(), 'syncNow', opts);
  }

  /**
   * Drops the local copy of every scope (records, versions, cursors) and pulls it again.
   * Pending writes are kept and still sync, unless `discardPending` (then they are dropped, with
   * the conflict inbox and rejections). Only in the tab that runs sync (`not_leader` otherwise).
   */
  async reset(opts: { readonly discardPending?: boolean } = {}): Promise<void> {
    await this.#leadership.withEngineStopped('reset', () => this.#store.reset(opts.discardPending === true));
  }

  /** Each synced record of `table`: its server version and pending outbox entries, by id. */
  records$(table: string): Observable<RecordSyncState[]> {
    return recordStates$(this.db, table).pipe(takeUntil(this.#life.closed$));
  }

  /** A Dexie live query as an RxJS observable (re-runs when its data changes, in any tab). */
  liveQuery<R>(query: () => R | Promise<R>): Observable<R> {
    return from(liveQuery(query));
  }

  /**
   * Runs `fn` in one Dexie read-write transaction whose synced writes share a txn id: the server
   * commits them all or none, and a rejection rolls all of them back here.
   */
  transaction<R>(tables: readonly (string | Table)[], fn: () => Promise<R>): Promise<R> {
    const { now, random } = this.#options;
    return this.db.transaction('rw', tables as string[], async (tx) => {
      this.#markers.txn.set(
        tx.idbtrans as unknown as object as never,
        `t_${now().toString(36)}_${Math.floor(random() * 1e9).toString(36)}`,
      );
      return fn();
    });
  }

  /** Adds `by` to a numeric field: an `inc` mutation, which merges with concurrent increments. */
  async inc(table: string, key: AppKey, field: string, by = 1): Promise<void> {
    await this.db.table(table).update(key, { [field]: add(by) });
  }

  /**
   * Settles a manual conflict: `'mine'`, `'theirs'`, `{ fields: { status: 'mine', … } }` or
   * `{ value }`. What was chosen syncs as a patch on the server's current version (fields nobody
   * chose and counters are never written); rejects with `invalid_argument` on a malformed choice.
   */
  async resolveConflict(mid: number, resolution: ConflictResolution): Promise<void> {
    await resolveConflict(this.db, this.#options.tableNames, mid, resolution);
  }

  async dismissRejection(mid: number): Promise<void> {
    await deleteRejection(this.db, mid);
  }

  /**
   * Publishes this tab's presence in `scope` (what it is viewing or editing): small plain JSON
   * (at most `limits.maxPresenceBytes`, else `invalid_argument`), ephemeral, never stored.
   * Others watching the scope see it within a round trip and stop seeing it when this tab clears
   * it, closes or goes offline; after a reconnect it is announced again. Each tab is its own
   * entry. A refusal by the server (`forbidden`, `rate_limited`) is reported on `errors$`.
   */
  setPresence(scope: string, state: JsonValue): void {
    this.#presence.set(scope, state);
  }

  /** Withdraws this tab's presence from `scope`. */
  clearPresence(scope: string): void {
    this.#presence.clear(scope);
  }

  /**
   * Every tab present in `scope`, live: others as the server reports them (each entry drops out
   * when it leaves, or within a few seconds when its node dies), this tab's own entry marked
   * `self`. Watching starts with the first subscription and stops with the last; while this
   * device is disconnected only its own entry is shown.
   */
  presence$(scope: string): Observable<PresenceMember[]> {
    return this.#presence.members$(scope);
  }

  /** A record's history from the server, newest first. */
  async history(table: string, key: AppKey, opts: HistoryPage = {}): Promise<AppHistoryEntry[]> {
    return fetchAppHistory(this.#requests, table, key, opts);
  }

  /** Restores a record to an older version (a new change; history is kept). */
  async restore(table: string, key: AppKey, version: number): Promise<void> {
    const r = await fetchVersion(this.#requests, table, key, version);
    await this.#store.queueRestore(table, r.id, version, r.value);
  }

  /** This client's content hash of a scope (compare with `serverHash`). */
  localHash(scope: string): Promise<{ hash: string; count: number }> {
    return localScopeHash(this.db, scope);
  }

  /** The server's content hash of a scope. Rejects with a `SynclineError` (`unreachable`, …). */
  serverHash(scope: string): Promise<HashResponse & { ok: true }> {
    return fetchServerHash(this.#requests, scope);
  }

  /** One page of a read-through query on the server, for data this device need not sync (see `fetchQuery`). */
  query(opts: QueryOptions): Promise<QueryResult> {
    return fetchQuery(this.#requests, opts);
  }
}

/**
 * Creates a sync client for `db` (before `db.open()`). Throws a `SynclineError` `invalid_config`
 * naming every bad option; its `cause` (a `SynclineConfigError`) lists them as `issues`.
 */
export function createSyncClient(db: Dexie, options: SyncClientOptions): SyncClient {
  checkClientOptions(options);
  return new SyncClient(db, options);
}
