import { add, liveQuery, type DBCore, type Dexie, type Table } from 'dexie';
import {
  BehaviorSubject,
  ReplaySubject,
  Subject,
  takeUntil,
  combineLatest,
  distinctUntilChanged,
  from,
  map,
  sampleTime,
  shareReplay,
  timer,
  type Observable,
} from 'rxjs';
import {
  asScopeId,
  DEFAULT_LIMITS,
  changedKeys,
  type HistoryRequest,
  type HistoryResponse,
  type HashResponse,
  type HistoryEntry,
  type AppObject,
  type JsonObject,
  type Limits,
} from '@syncline/protocol';
import {
  waitFor,
  whenAcknowledged,
  whenSynced,
  withTimeout,
  type SyncedReport,
  type WaitOptions,
  type WriteOutcome,
} from './await-sync.js';
import {
  localCounts$,
  recordStates$,
  sameData,
  scopeStates$,
  toStatus,
  type RecordSyncState,
  type ScopeSyncState,
  type SyncErrorEvent,
} from './client-observables.js';
import { DEFAULT_BACKOFF, type BackoffPolicy } from './engine/backoff.js';
import { clientError, fromSyncError, SynclineError } from './errors.js';
import {
  browserNetwork,
  browserVisibility,
  type NetworkStatus,
  type Visibility,
} from './engine/environment.js';
import { defaultElection, type LeaderElection } from './engine/leader.js';
import { SyncEngine, type EngineState } from './engine/sync-engine.js';
import { connectSocket, request, type SyncSocket } from './engine/transport.js';
import type { AdoptionProgress } from './store/adopt-existing.js';
import { startAdoption, type AdoptionRun } from './store/adoption-run.js';
import { checkClientOptions } from './options-schema.js';
import { LocalStore } from './store/local-store.js';
import { ensureClientId, localScopeHash } from './store/local-queries.js';
import { appKeyOf, appRowOf, checkSyncedTables, recordIdOf } from './store/synced-keys.js';
import {
  decodeConflict,
  decodeHistoryEntry,
  wireRecord,
  type AppConflictEntry,
  type AppHistoryEntry,
  type AppKey,
} from './app-values.js';
import { createOutboxMiddleware, type SyncedTableConfig, type TxMarkers } from './store/outbox-middleware.js';
import {
  SYNCLINE_TABLES,
  type ConflictEntry,
  type OutboxEntry,
  type RejectionEntry,
} from './store/schema.js';
import { ScopeEviction } from './store/scope-eviction.js';
import type { SyncStatus } from './status.js';
import {
  EMPTY_ENGINE_METRICS,
  toSyncMetrics,
  toTelemetryReport,
  type EngineMetrics,
  type SyncMetrics,
} from './sync-metrics.js';

export interface SyncClientOptions {
  /** Server URL, or several for failover (tried in turn). */
  readonly url: string | readonly string[];
  /** The app's synced tables and the scope of their records. */
  readonly tables: Readonly<Record<string, SyncedTableConfig>>;
  /** Scopes to subscribe to and keep in sync. */
  readonly scopes: readonly string[];
  /** Handshake token for the server's `authenticate` hook (a function is called per connection). */
  readonly token?: string | (() => string | Promise<string>);
  readonly path?: string;
  readonly network?: NetworkStatus;
  readonly visibility?: Visibility;
  readonly election?: LeaderElection;
  readonly now?: () => number;
  readonly random?: () => number;
  readonly backoff?: BackoffPolicy;
  readonly limits?: Partial<Limits>;
  readonly requestTimeoutMs?: number;
  readonly pullPageSize?: number;
  /**
   * Report a compact summary of `metrics$` (lag per scope, outbox depth and age, push latency,
   * conflict rate) to the server every `intervalMs` (default 15 000) while connected, for its
   * Prometheus metrics. Off by default.
   */
  readonly telemetry?: boolean | { readonly intervalMs?: number };
}

/** How often `metrics$` re-emits with nothing else changing, so ages stay current. */
const METRICS_TICK_MS = 1000;

/** How to settle a manual conflict. */
export type ConflictResolution = 'mine' | 'theirs' | { readonly value: AppObject | null };

/**
 * Syncline on top of an app's Dexie database. Create it before `db.open()` (it installs the
 * outbox middleware), then `start()`. Plain Dexie writes on synced tables are queued and synced.
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
  readonly #o: SyncClientOptions;
  readonly #markers: TxMarkers = { remote: new WeakSet(), txn: new WeakMap() };
  readonly #store: LocalStore;
  readonly #leader$ = new BehaviorSubject<boolean>(false);
  readonly #engineState$ = new BehaviorSubject<EngineState>({
    phase: 'stopped',
    connected: false,
    lastSyncedAt: null,
    lastError: null,
    progress: {},
  });
  readonly #engineMetrics$ = new BehaviorSubject<EngineMetrics>(EMPTY_ENGINE_METRICS);
  readonly #errors$ = new Subject<SyncErrorEvent>();
  /** The mid of the newest write made in this tab (0: none yet). */
  #lastMid = 0;
  readonly #eviction: ScopeEviction;
  readonly #online$: BehaviorSubject<boolean>;
  readonly #scopes$: BehaviorSubject<readonly string[]>;
  readonly #unsubscribeNetwork: () => void;
  /** The outbox middleware's DBCore layer (adoption writes through it, below app hooks). */
  #queueCore: DBCore | undefined;
  readonly #adoption$ = new BehaviorSubject<AdoptionProgress | null>(null);
  /** The leader's adoption run, and its end (the engine starts then; see `startAdoption`). */
  #adoptionRun: AdoptionRun | undefined;
  #adopting: Promise<void> | undefined;
  #engine: SyncEngine | undefined;
  #campaign: { resign(): Promise<void> } | undefined;
  #subs: { unsubscribe(): void }[] = [];
  #detach: (() => void)[] = [];
  readonly #closed$ = new ReplaySubject<void>(1);
  readonly #whenClosed = new Promise<void>((resolve) => this.#closed$.subscribe({ complete: resolve }));
  #clientId: string | undefined;
  readonly #now: () => number;
  readonly #random: () => number;

  constructor(db: Dexie, options: SyncClientOptions) {
    if (db.isOpen())
      throw new Error('createSyncClient must run before db.open(): it installs the outbox middleware');
    checkSyncedTables(db, Object.keys(options.tables));
    this.db = db;
    this.#o = options;
    this.#now = options.now ?? Date.now;
    this.#random = options.random ?? Math.random;
    const limits = { ...DEFAULT_LIMITS, ...options.limits };
    const outbox = createOutboxMiddleware({
      tables: options.tables,
      markers: this.#markers,
      now: this.#now,
      limits,
      onQueued: (lastMid) => {
        this.#lastMid = Math.max(this.#lastMid, lastMid);
        this.#engine?.notifyOutbox(lastMid);
      },
    });
    db.use({
      ...outbox,
      create: (down) => {
        const layer = outbox.create(down);
        this.#queueCore = { ...down, ...layer };
        return layer;
      },
    });
    this.#store = new LocalStore(db, Object.keys(options.tables), this.#markers, this.#now);
    this.#eviction = new ScopeEviction(db, this.#store);
    const network = options.network ?? browserNetwork;
    this.#online$ = new BehaviorSubject(network.isOnline());
    this.#unsubscribeNetwork = network.subscribe(() => this.#online$.next(network.isOnline()));
    this.#scopes$ = new BehaviorSubject<readonly string[]>(options.scopes);
    // Shared: many components may watch the same lists; one live query serves them all.
    const shared = { bufferSize: 1, refCount: true } as const;
    this.outbox$ = from(
      liveQuery(() => db.table<OutboxEntry>(SYNCLINE_TABLES.outbox).orderBy('mid').toArray()),
    ).pipe(takeUntil(this.#closed$), shareReplay(shared));
    this.conflicts$ = from(
      liveQuery(() => db.table<ConflictEntry>(SYNCLINE_TABLES.conflicts).orderBy('mid').toArray()),
    ).pipe(
      map((list) => list.map(decodeConflict)),
      takeUntil(this.#closed$),
      shareReplay(shared),
    );
    this.rejections$ = from(
      liveQuery(() => db.table<RejectionEntry>(SYNCLINE_TABLES.rejections).orderBy('mid').toArray()),
    ).pipe(takeUntil(this.#closed$), shareReplay(shared));
    const counts$ = localCounts$(db).pipe(shareReplay(shared));
    this.status$ = combineLatest([
      this.#engineState$,
      counts$,
      this.#leader$,
      this.#online$,
      this.#scopes$,
      this.#adoption$,
    ]).pipe(
      map(([e, c, isLeader, online, wanted, adoption]) => toStatus(e, c, isLeader, online, wanted, adoption)),
      // Only changes: a repeated value would re-render every component that shows it.
      distinctUntilChanged<SyncStatus>(sameData),
      // After close() the streams complete (late subscribers get the last value, then completion).
      takeUntil(this.#closed$),
      shareReplay(shared),
    );
    this.errors$ = this.#errors$.asObservable();
    this.scopes$ = scopeStates$(db, this.#scopes$, this.#engineMetrics$).pipe(
      takeUntil(this.#closed$),
      shareReplay(shared),
    );
    this.metrics$ = combineLatest([
      this.#engineMetrics$,
      counts$,
      this.#scopes$,
      timer(0, METRICS_TICK_MS),
    ]).pipe(
      map(([m, c, wanted]) =>
        toSyncMetrics(m, { pending: c.pending, oldestPendingAt: c.oldest }, wanted, this.#now()),
      ),
      takeUntil(this.#closed$),
      shareReplay(shared),
    );
  }

  /** This database's client id (available after `start()`). */
  get clientId(): string {
    if (this.#clientId === undefined) throw clientError('not_started', 'call start() first');
    return this.#clientId;
  }

  /** Opens the database and joins the leader election; the leader tab starts syncing. */
  async start(): Promise<void> {
    if (this.#campaign) return;
    await this.db.open();
    this.#clientId = await ensureClientId(this.db, this.#random);
    this.#join();
    // A frozen tab (Page Lifecycle) keeps its Web Lock but runs no code: hand leadership over
    // while frozen and ask for it again on resume.
    const doc = (globalThis as { document?: Pick<Document, 'addEventListener' | 'removeEventListener'> })
      .document;
    if (doc && this.#detach.length === 0) {
      const onFreeze = () => void this.#leave();
      const onResume = () => this.#join();
      doc.addEventListener('freeze', onFreeze);
      doc.addEventListener('resume', onResume);
      this.#detach.push(() => {
        doc.removeEventListener('freeze', onFreeze);
        doc.removeEventListener('resume', onResume);
      });
    }
  }

  #join(): void {
    if (this.#campaign) return;
    const election = this.#o.election ?? defaultElection();
    this.#campaign = election.campaign(`syncline:${this.db.name}`, () => this.#lead());
  }

  /** Stops the engine (if leading) and leaves the election. */
  async #leave(): Promise<void> {
    for (const s of this.#subs.splice(0)) s.unsubscribe();
    const engine = this.#engine;
    this.#engine = undefined;
    this.#adoptionRun?.wake();
    await this.#adopting; // stops after its current chunk (it checks #engine)
    await engine?.stop();
    this.#engineState$.next({ ...this.#engineState$.value, phase: 'stopped', connected: false });
    this.#engineMetrics$.next(EMPTY_ENGINE_METRICS); // a follower tab has no engine figures
    this.#leader$.next(false);
    const campaign = this.#campaign;
    this.#campaign = undefined;
    await campaign?.resign();
  }

  #lead(): void {
    if (!this.#campaign || this.#engine) return;
    const o = this.#o;
    const limits = { ...DEFAULT_LIMITS, ...o.limits };
    const engine = new SyncEngine({
      urls: typeof o.url === 'string' ? [o.url] : o.url,
      clientId: this.clientId,
      token: o.token,
      path: o.path,
      scopes: o.scopes,
      store: this.#store,
      network: o.network ?? browserNetwork,
      visibility: o.visibility ?? browserVisibility,
      backoff: o.backoff ?? DEFAULT_BACKOFF,
      now: this.#now,
      random: this.#random,
      limits,
      requestTimeoutMs: o.requestTimeoutMs ?? 15_000,
      pullPageSize: o.pullPageSize ?? 500,
      onActivity: () => undefined,
    });
    this.#engine = engine;
    this.#subs.push(engine.state$.subscribe((s) => this.#engineState$.next(s)));
    this.#subs.push(engine.metrics$.subscribe((m) => this.#engineMetrics$.next(m)));
    this.#subs.push(engine.errors$.subscribe((e) => this.#errors$.next({ ...e, at: this.#now() })));
    if (o.telemetry) {
      const every = o.telemetry === true ? 15_000 : (o.telemetry.intervalMs ?? 15_000);
      this.#subs.push(
        this.metrics$
          .pipe(sampleTime(Math.max(every, METRICS_TICK_MS)))
          .subscribe((m) => void engine.sendTelemetry(toTelemetryReport(m))),
      );
    }
    // Writes from any tab land in the shared outbox; the leader hears of them through Dexie's
    // cross-tab change events (this tab's own writes also through the middleware's onQueued).
    // The engine ignores a last mid it has already read (settled pushes re-run this query).
    this.#subs.push(
      from(
        liveQuery(() => this.db.table<OutboxEntry>(SYNCLINE_TABLES.outbox).orderBy('mid').last()),
      ).subscribe((last) => {
        if (last !== undefined) engine.notifyOutbox(last.mid);
      }),
    );
    this.#leader$.next(true);
    // The engine starts once rows that predate syncing are queued (see `startAdoption`).
    const leading = () => this.#engine === engine;
    const run = startAdoption({
      db: this.db,
      core: () => this.#queueCore!,
      tables: Object.keys(this.#o.tables),
      backoff: this.#o.backoff ?? DEFAULT_BACKOFF,
      random: this.#random,
      leading,
      onProgress: (p) => this.#adoption$.next(p),
      onError: (error) => {
        this.#engineState$.next({ ...this.#engineState$.value, lastError: error });
        this.#errors$.next({ ...error, at: this.#now() });
      },
    });
    this.#adoptionRun = run;
    this.#adopting = run.done.then((complete) => {
      if (complete && leading()) engine.start();
    });
  }

  /** Stops syncing and leaves the election (another tab may take over). The db stays open. */
  async stop(): Promise<void> {
    for (const d of this.#detach.splice(0)) d();
    await this.#leave();
  }

  /** Stops and closes the database. */
  async close(): Promise<void> {
    await this.stop();
    this.#unsubscribeNetwork();
    this.#eviction.stop();
    this.#errors$.complete();
    this.#closed$.next();
    this.#closed$.complete();
    this.db.close();
  }

  pause(): void {
    this.#engine?.pause();
  }

  resume(): void {
    this.#engine?.resume();
  }

  /**
   * Replaces the scopes to sync. A scope left out stops syncing and its local rows are evicted
   * (with its cursor), each row once it has no pending changes; its pending changes still sync.
   */
  setScopes(scopes: readonly string[]): void {
    const removed = this.#scopes$.value.filter((s) => !scopes.includes(s));
    this.#scopes$.next([...scopes]);
    this.#engine?.setScopes(scopes);
    this.#eviction.update(removed, scopes);
  }

  /**
   * Resolves once the server has answered every mutation queued on this device (in any tab)
   * before the call, with which of them were rejected or went to the conflict inbox. Rejects
   * with a `SynclineError`: `timeout` (after `timeoutMs`), `closed`.
   */
  whenSynced(opts: WaitOptions = {}): Promise<SyncedReport> {
    return this.#awaiting(whenSynced(this.#awaitContext()), 'sync', opts);
  }

  /** The mid of the newest write made in this tab, for `whenAcknowledged` (0: none yet). */
  lastMid(): number {
    return this.#lastMid;
  }

  /**
   * Resolves once the server answered mutation `mid` (see `lastMid`): applied (or merged),
   * rejected, or a manual conflict. Rejects with a `SynclineError`: `unknown_mid`, `timeout`,
   * `closed`.
   */
  whenAcknowledged(mid: number, opts: WaitOptions = {}): Promise<WriteOutcome> {
    return this.#awaiting(whenAcknowledged(this.#awaitContext(), mid), `mid ${mid}`, opts);
  }

  /**
   * Resolves once every current scope has been pulled to its head at least once (at once for
   * a copy synced in an earlier session). Rejects with `timeout` or `closed`.
   */
  async whenInitialSynced(opts: WaitOptions = {}): Promise<void> {
    await waitFor(this.#awaitContext(), this.status$, (s) => s.initialSync.done, 'the initial sync', opts);
  }

  /**
   * Pulls every scope and pushes the outbox at once (skipping a backoff wait), and resolves when
   * that round is done. Rejects with a `SynclineError`: `offline` (network down or paused),
   * `not_leader` (another tab syncs this database), `not_started`, `timeout`, `closed`.
   */
  syncNow(opts: WaitOptions = {}): Promise<void> {
    return this.#awaiting(
      // The engine starts once rows that predate syncing are queued (see `startAdoption`).
      Promise.resolve(this.#adopting).then(() => this.#leading('syncNow').syncNow()),
      'syncNow',
      opts,
    );
  }

  /**
   * Drops the local copy of every scope (records, versions, cursors) and pulls it again.
   * Pending writes are kept and still sync, unless `discardPending` (then they are dropped, with
   * the conflict inbox and rejections). Only in the tab that runs sync (`not_leader` otherwise).
   */
  async reset(opts: { readonly discardPending?: boolean } = {}): Promise<void> {
    this.#leading('reset');
    await this.#adopting;
    const engine = this.#leading('reset');
    for (const s of this.#subs.splice(0)) s.unsubscribe();
    this.#engine = undefined;
    await engine.stop();
    try {
      await this.#store.reset(opts.discardPending === true);
    } finally {
      this.#lead();
    }
  }

  /** Each synced record of `table`: its server version and pending outbox entries, by id. */
  records$(table: string): Observable<RecordSyncState[]> {
    return recordStates$(this.db, table).pipe(takeUntil(this.#closed$));
  }

  #awaitContext() {
    return { db: this.db, closed$: this.#closed$ };
  }

  /** `p` bounded by the timeout and by close(). */
  #awaiting<R>(p: Promise<R>, what: string, opts: WaitOptions): Promise<R> {
    const closed = this.#whenClosed.then(() => {
      throw clientError('closed', `the client closed while waiting for ${what}`);
    });
    return withTimeout(Promise.race([p, closed]), what, opts);
  }

  /** The running engine, or a `SynclineError` saying why there is none. */
  #leading(what: string): SyncEngine {
    if (this.#clientId === undefined) throw clientError('not_started', `${what}: call start() first`);
    if (this.#engine) return this.#engine;
    throw clientError('not_leader', `${what}: another tab runs sync for this database`);
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
    return this.db.transaction('rw', tables as string[], async (tx) => {
      this.#markers.txn.set(
        tx.idbtrans as unknown as object as never,
        `t_${this.#now().toString(36)}_${Math.floor(this.#random() * 1e9).toString(36)}`,
      );
      return fn();
    });
  }

  /** Adds `by` to a numeric field: an `inc` mutation, which merges with concurrent increments. */
  async inc(table: string, key: AppKey, field: string, by = 1): Promise<void> {
    await this.db.table(table).update(key, { [field]: add(by) });
  }

  /** Settles a manual conflict; "mine" and custom values sync as new changes on the server's version. */
  async resolveConflict(mid: number, resolution: ConflictResolution): Promise<void> {
    await this.db.transaction(
      'rw',
      [...Object.keys(this.#o.tables), ...Object.values(SYNCLINE_TABLES)],
      async () => {
        const c = await this.db.table<ConflictEntry>(SYNCLINE_TABLES.conflicts).get(mid);
        if (!c) return;
        await this.db.table(SYNCLINE_TABLES.conflicts).delete(mid);
        if (resolution === 'theirs') return;
        const key = appKeyOf(c.id);
        const row: unknown = await this.db.table(c.table).get(key);
        const current = row === undefined ? null : wireRecord(row);
        // "Mine" means my changes, not my whole copy: apply the fields I changed since the base
        // onto the current record, so other fields changed meanwhile are kept.
        if (resolution !== 'mine') {
          if (resolution.value === null) await this.db.table(c.table).delete(key);
          else await this.db.table(c.table).put(resolution.value);
          return;
        }
        const value = applyMyChanges(current, c.base, c.mine);
        if (value === null) await this.db.table(c.table).delete(key);
        else
          await this.db
            .table(c.table)
            .put(appRowOf(this.db.table(c.table).schema.primKey.keyPath, c.id, value));
      },
    );
  }

  async dismissRejection(mid: number): Promise<void> {
    await this.db.table(SYNCLINE_TABLES.rejections).delete(mid);
  }

  /** A record's history from the server, newest first. */
  async history(
    table: string,
    key: AppKey,
    opts: { limit?: number; before?: number } = {},
  ): Promise<AppHistoryEntry[]> {
    return (await this.#history(table, key, opts)).map(decodeHistoryEntry);
  }

  /** The history in the wire encoding, by record id. */
  async #history(
    table: string,
    key: AppKey,
    opts: { limit?: number; before?: number },
  ): Promise<HistoryEntry[]> {
    const id = recordIdOf(key);
    if (!id.ok) throw clientError('unsupported_key', `${table}: ${id.message}`);
    const scope = await this.#scopeOf(table, id.value);
    return this.#withSocket(async (s) => {
      const req = { scope: asScopeId(scope), collection: table, id: id.value, ...opts } as HistoryRequest;
      const res: HistoryResponse = await request(s, 'history', req, 15_000);
      if (!res.ok) throw fromSyncError(res.error);
      return res.entries;
    });
  }

  /** Restores a record to an older version (a new change; history is kept). */
  async restore(table: string, key: AppKey, version: number): Promise<void> {
    const id = recordIdOf(key);
    if (!id.ok) throw clientError('unsupported_key', `${table}: ${id.message}`);
    const entry = (await this.#history(table, key, { before: version + 1, limit: 1 }))[0];
    if (entry?.version !== version)
      throw clientError(
        'unknown_version',
        `version ${version} of ${table}/${id.value} is not in its history`,
      );
    await this.#store.queueRestore(table, id.value, version, entry.value);
  }

  /** This client's content hash of a scope (compare with `serverHash`). */
  localHash(scope: string): Promise<{ hash: string; count: number }> {
    return localScopeHash(this.db, scope);
  }

  async serverHash(scope: string): Promise<HashResponse & { ok: true }> {
    return this.#withSocket(async (s) => {
      const res: HashResponse = await request(s, 'hash', { scope: asScopeId(scope) }, 15_000);
      if (!res.ok) throw fromSyncError(res.error);
      return res;
    });
  }

  async #scopeOf(table: string, id: string): Promise<string> {
    const meta = (await this.db.table(SYNCLINE_TABLES.records).get([table, id])) as
      { scope: string } | undefined;
    if (!meta) throw clientError('unknown_record', `no synced record ${table}/${id}`);
    return meta.scope;
  }

  /**
   * Uses the leader's socket, or a short-lived one in follower tabs. Failing to connect or to get
   * an answer rejects with `SynclineError` `unreachable` (the server's own errors keep their code).
   */
  async #withSocket<R>(fn: (s: SyncSocket) => Promise<R>): Promise<R> {
    try {
      return await this.#onSocket(fn);
    } catch (e) {
      if (e instanceof SynclineError) throw e;
      const message = e instanceof Error ? e.message : String(e);
      throw clientError('unreachable', `the server did not answer: ${message}`, { cause: e });
    }
  }

  async #onSocket<R>(fn: (s: SyncSocket) => Promise<R>): Promise<R> {
    const live = this.#engine?.socket;
    if (live?.connected) return fn(live);
    const urls = typeof this.#o.url === 'string' ? [this.#o.url] : this.#o.url;
    const socket = await connectSocket({
      url: urls[0]!,
      clientId: this.clientId,
      token: this.#o.token,
      path: this.#o.path,
      timeoutMs: 15_000,
    });
    try {
      return await fn(socket);
    } finally {
      socket.close();
    }
  }
}

/** `current` with every top-level field that `mine` changed relative to `base` taken from `mine`. */
function applyMyChanges(
  current: JsonObject | null,
  base: JsonObject | null,
  mine: JsonObject | null,
): JsonObject | null {
  if (mine === null || current === null) return mine;
  const out: JsonObject = { ...current };
  for (const k of changedKeys(base, mine)) {
    if (mine[k] === undefined) delete out[k];
    else out[k] = mine[k];
  }
  return out;
}

/**
 * Creates a sync client for `db` (before `db.open()`). Throws `SynclineConfigError` naming
 * every bad option (`invalid_config: tables.cards.scpe: unknown option …`).
 */
export function createSyncClient(db: Dexie, options: SyncClientOptions): SyncClient {
  checkClientOptions(options);
  return new SyncClient(db, options);
}
