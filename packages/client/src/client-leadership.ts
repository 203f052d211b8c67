// Which tab syncs: the client joins a leader election per database; the tab that wins runs the
// sync engine (connecting at once, subscribing once it adopted the rows that predate syncing),
// and steps down when it stops, is frozen, or loses the lock. Every tab sees the engine's state
// through the subjects here.
// A frozen or hung leader keeps its lock, so the leader also holds a lease (`LeaseKeeper`): a
// follower with pending writes takes a stale one over, and the old leader, fenced by the lease's
// epoch before every push, steps down when it runs again.
import type { DBCore, Dexie } from 'dexie';
import { BehaviorSubject, sampleTime, Subject, type Observable } from 'rxjs';
import type { SyncErrorEvent } from './client-observables.js';
import { METRICS_TICK_MS, type EngineSignals } from './client-streams.js';
import { clientError } from './errors.js';
import type { LeaderCampaign } from './engine/leader.js';
import { SyncEngine, type EngineState } from './engine/sync-engine.js';
import { every, LeaseKeeper } from './leader-lease-keeper.js';
import type { ResolvedOptions } from './resolve-options.js';
import type { AdoptionProgress } from './store/adopt-existing.js';
import { startAdoption, type AdoptionRun } from './store/adoption-run.js';
import { liveLastOutboxMid } from './store/live-queries.js';
import type { LocalStore } from './store/local-store.js';
import {
  EMPTY_ENGINE_METRICS,
  toTelemetryReport,
  type EngineMetrics,
  type SyncMetrics,
} from './sync-metrics.js';

export interface LeadershipDeps {
  readonly db: Dexie;
  readonly options: ResolvedOptions;
  readonly store: LocalStore;
  /** The outbox middleware's DBCore layer (adoption writes through it, below app hooks). */
  readonly queueCore: () => DBCore;
  /** This database's client id; only called once `started()`. */
  readonly clientId: () => string;
  readonly started: () => boolean;
  /** The client's metrics, reported as telemetry while leading (when it is on). */
  readonly metrics$: () => Observable<SyncMetrics>;
}

export class ClientLeadership implements EngineSignals {
  readonly leader$ = new BehaviorSubject<boolean>(false);
  readonly engineState$ = new BehaviorSubject<EngineState>({
    phase: 'stopped',
    connected: false,
    lastSyncedAt: null,
    lastError: null,
    progress: {},
  });
  readonly engineMetrics$ = new BehaviorSubject<EngineMetrics>(EMPTY_ENGINE_METRICS);
  readonly errors$ = new Subject<SyncErrorEvent>();
  readonly adoption$ = new BehaviorSubject<AdoptionProgress | null>(null);
  readonly #d: LeadershipDeps;
  /** The leader's adoption run, and its end (the engine subscribes then; see `startAdoption`). */
  #adoptionRun: AdoptionRun | undefined;
  #adopting: Promise<void> | undefined;
  #engine: SyncEngine | undefined;
  #campaign: LeaderCampaign | undefined;
  #subs: { unsubscribe(): void }[] = [];
  #detach: (() => void)[] = [];
  readonly #lease: LeaseKeeper;
  /** This tab in the lease (one per leadership, so two tabs of one client id differ). */
  readonly #holder: string;
  #stopHeartbeat: (() => void) | undefined;
  #stopWatch: (() => void) | undefined;
  /** A step-down after losing the lease or the lock, running. */
  #losing: Promise<void> | undefined;

  constructor(deps: LeadershipDeps) {
    this.#d = deps;
    const { options } = deps;
    this.#lease = new LeaseKeeper(deps.db, options.leaseTiming, options.now, deps.store.open);
    this.#holder = `${options.now().toString(36)}-${options.random().toString(36).slice(2, 10)}`;
  }

  /** The running engine (this tab leads), if any. */
  get engine(): SyncEngine | undefined {
    return this.#engine;
  }

  /** In the election (leading or waiting to). */
  get joined(): boolean {
    return this.#campaign !== undefined;
  }

  /** Joins the election; a frozen page hands leadership over until it resumes. */
  start(): void {
    this.#join();
    this.#stopWatch ??= every(this.#lease.timing.heartbeatMs, () => this.#watch());
    // A frozen tab (Page Lifecycle) keeps its Web Lock but runs no code: hand leadership over
    // while frozen and ask for it again on resume.
    const doc = (globalThis as { document?: Pick<Document, 'addEventListener' | 'removeEventListener'> })
      .document;
    if (doc && this.#detach.length === 0) {
      const onFreeze = () => this.#freeze();
      const onResume = () => (this.#engine ? void this.#lost() : this.#join());
      doc.addEventListener('freeze', onFreeze);
      doc.addEventListener('resume', onResume);
      this.#detach.push(() => {
        doc.removeEventListener('freeze', onFreeze);
        doc.removeEventListener('resume', onResume);
      });
    }
  }

  /** Stops the engine (if leading) and leaves the election (another tab may take over). */
  async stop(): Promise<void> {
    for (const d of this.#detach.splice(0)) d();
    this.#stopWatch?.();
    this.#stopWatch = undefined;
    await this.#losing;
    await this.#leave();
  }

  /** Ends the error stream (the client is closing). */
  complete(): void {
    this.errors$.complete();
  }

  /** The running engine, or a `SynclineError` saying why there is none. */
  leading(what: string): SyncEngine {
    if (!this.#d.started()) throw clientError('not_started', `${what}: call start() first`);
    if (this.#engine) return this.#engine;
    throw clientError('not_leader', `${what}: another tab runs sync for this database`);
  }

  /** One sync round now, once adoption has let the engine subscribe. */
  syncNow(): Promise<void> {
    // The engine subscribes once rows that predate syncing are queued (see `startAdoption`).
    return Promise.resolve(this.#adopting).then(() => this.leading('syncNow').syncNow());
  }

  /** Stops the engine, runs `fn` (e.g. a reset of the local copy), and leads again after it. */
  async withEngineStopped(what: string, fn: () => Promise<void>): Promise<void> {
    this.leading(what);
    await this.#adopting;
    const engine = this.leading(what);
    for (const s of this.#subs.splice(0)) s.unsubscribe();
    this.#engine = undefined;
    await engine.stop();
    try {
      await fn();
    } finally {
      this.#lead();
    }
  }

  #join(): void {
    if (this.#campaign) return;
    const election = this.#d.options.election();
    this.#campaign = election.campaign(
      `syncline:${this.#d.db.name}`,
      () => this.#lead(),
      () => void this.#lost(),
    );
  }

  /** A follower's look at the lease: takes a stale one over when writes wait in the outbox. */
  async #watch(): Promise<void> {
    const campaign = this.#campaign;
    if (this.#engine || !campaign?.takeOver || this.#losing) return;
    if (!(await this.#lease.takeOverIfStale(this.#holder))) return;
    if (this.#campaign === campaign && !this.#engine) campaign.takeOver();
  }

  /**
   * The page is about to freeze: hand the lock over now, synchronously. Nothing here may start
   * an IndexedDB transaction, and the engine's open ones are aborted: a page frozen inside one
   * blocks the database for every tab. The engine stays as it is until `resume` (its pushes are
   * fenced by the lease meanwhile; what the aborted transactions did is done again).
   */
  #freeze(): void {
    this.#lease.forget(); // the lock goes now: after resume, the fence reads the lease
    if (this.#engine) this.#d.store.open.abortAll();
    this.#stopHeartbeat?.();
    this.#stopHeartbeat = undefined;
    const campaign = this.#campaign;
    this.#campaign = undefined;
    void campaign?.resign();
  }

  /** Lost the lease or the lock (another tab took over): step down, then wait for a turn. */
  #lost(): Promise<void> {
    this.#losing ??= (async () => {
      await this.#leave();
      if (this.#stopWatch) this.#join(); // still started
    })()
      .catch(() => undefined) // closing: the database is gone, nothing is left to step down from
      .finally(() => (this.#losing = undefined));
    return this.#losing;
  }

  /** Stops the engine and leaves the election. */
  async #leave(): Promise<void> {
    this.#lease.forget();
    this.#stopHeartbeat?.();
    this.#stopHeartbeat = undefined;
    for (const s of this.#subs.splice(0)) s.unsubscribe();
    const engine = this.#engine;
    this.#engine = undefined;
    this.#adoptionRun?.wake();
    await this.#adopting; // stops after its current chunk (it checks #engine)
    await engine?.stop();
    this.engineState$.next({ ...this.engineState$.value, phase: 'stopped', connected: false });
    this.engineMetrics$.next(EMPTY_ENGINE_METRICS); // a follower tab has no engine figures
    this.leader$.next(false);
    const campaign = this.#campaign;
    this.#campaign = undefined;
    await campaign?.resign();
  }

  #lead(): void {
    if (!this.#campaign || this.#engine) return;
    const { db, options: o } = this.#d;
    // A new epoch fences the previous leader (it may be frozen mid-push, see `leader-lease.ts`).
    const claim = this.#lease.claim(this.#holder);
    claim.catch(() => void this.#lost()); // no lease, no pushes: let another tab try
    const engine = new SyncEngine({
      urls: o.urls,
      clientId: this.#d.clientId(),
      token: o.token,
      path: o.path,
      scopes: o.scopes,
      store: this.#d.store,
      network: o.network,
      visibility: o.visibility,
      backoff: o.backoff,
      now: o.now,
      random: o.random,
      limits: o.limits,
      requestTimeoutMs: o.requestTimeoutMs,
      pullPageSize: o.pullPageSize,
      coalesce: o.coalesce,
      onActivity: () => undefined,
      fence: async () => {
        const held = await this.#lease.holds(await claim);
        if (!held) void this.#lost();
        return held;
      },
    });
    this.#engine = engine;
    this.#stopHeartbeat = every(this.#lease.timing.heartbeatMs, async () => {
      if (!(await this.#lease.renew(await claim))) void this.#lost();
    });
    this.#subs.push(engine.state$.subscribe((s) => this.engineState$.next(s)));
    this.#subs.push(engine.metrics$.subscribe((m) => this.engineMetrics$.next(m)));
    this.#subs.push(engine.errors$.subscribe((e) => this.errors$.next({ ...e, at: o.now() })));
    if (o.telemetryIntervalMs !== null) {
      this.#subs.push(
        this.#d
          .metrics$()
          .pipe(sampleTime(Math.max(o.telemetryIntervalMs, METRICS_TICK_MS)))
          .subscribe((m) => void engine.sendTelemetry(toTelemetryReport(m))),
      );
    }
    // Writes from any tab land in the shared outbox; the leader hears of them through Dexie's
    // cross-tab change events (this tab's own writes also through the middleware's onQueued).
    // The engine ignores a last mid it has already read (settled pushes re-run this query).
    this.#subs.push(
      liveLastOutboxMid(db).subscribe((last) => {
        if (last !== undefined) engine.notifyOutbox(last);
      }),
    );
    this.leader$.next(true);
    // The engine subscribes once rows that predate syncing are queued (see `startAdoption`).
    const leading = () => this.#engine === engine;
    const run = startAdoption({
      db,
      core: this.#d.queueCore,
      tables: o.tableNames,
      backoff: o.backoff,
      random: o.random,
      leading,
      onProgress: (p) => this.adoption$.next(p),
      onError: (error) => {
        this.engineState$.next({ ...this.engineState$.value, lastError: error });
        this.errors$.next({ ...error, at: o.now() });
      },
    });
    this.#adoptionRun = run;
    // The engine connects now and subscribes once adoption is done and the lease claimed (a tab
    // that stops leading first stops the engine, which ends the wait).
    let ready = (): void => undefined;
    engine.start(new Promise<void>((resolve) => (ready = resolve)));
    this.#adopting = run.done.then(async (complete) => {
      const claimed = await claim.then(
        () => true,
        () => false,
      );
      if (complete && claimed && leading()) ready();
    });
  }
}
