/**
 * The sync engine: one explicit state machine per leader tab. This file holds the loop and its
 * phases (connection, backoff, transitions); the machines beside it do the work of a phase:
 * `pull-scope.ts` (a scope's pages, prefetched), `push-pipeline.ts` (the push window),
 * `live-changes.ts` (live messages, held gaps), all writing through one `write-queue.ts`.
 *
 *            start()                online
 *   stopped ────────▶ offline ──────────────▶ connecting ──refused/failed──▶ backoff
 *                        ▲                        │ accepted                  │ timer (next URL)
 *                        │ network lost           ▼                           │
 *                        ├─────────────────── subscribing ◀───────────────────┘
 *                        │                        ▼
 *                        │                     pulling ◀──── version gap / reset / duplicate
 *                        │                        ▼                      │
 *                        │                     pushing ◀──── outbox grew │
 *                        │                        ▼                      │
 *                        └──────────────────── live ─────────────────────┘
 *                                                 │ socket lost / timeout / retryable error
 *                                                 ▼
 *                                              backoff
 *   pause() from any state → paused; resume() → offline (then onwards). stop() → stopped.
 *
 * One loop drives the transitions (`nextStep` in `loop-step.ts` picks the phase); socket events
 * only record work (a scope to pull, the outbox to push) and wake the loop. All local writes go
 * through one serial queue (`WriteQueue`), so pulls, live changes and push results never
 * interleave.
 */
import { BehaviorSubject, Subject } from 'rxjs';
import {
  asScopeId,
  type Hello,
  type ScopeId,
  type SyncError,
  type TelemetryReport,
} from '@syncline/protocol';
import { clientError, type SynclineError } from '../errors.js';
import { EMPTY_ENGINE_METRICS, withScope, type EngineMetrics } from '../sync-metrics.js';
import { backoffDelay } from './backoff.js';
import { CredentialRefresh } from './credential-refresh.js';
import type { EngineContext } from './engine-context.js';
import type { EngineOptions, EngineState } from './engine-types.js';
import { LiveChanges } from './live-changes.js';
import { failureOf, nextStep, syncNowRefusal, waitsOutBackoff } from './loop-step.js';
import { pullScope } from './pull-scope.js';
import type { OutboxEntry } from '../store/schema.js';
import { PushPipeline } from './push-pipeline.js';
import { answered, connectSocket, request, type ClientSocket } from './transport.js';
import { TelemetrySender } from './telemetry-sender.js';
import { WakeSignal } from './wake-signal.js';
import { WriteQueue } from './write-queue.js';

export type { EngineOptions, EngineState, PullProgress, SyncPhase } from './engine-types.js';

export class SyncEngine {
  readonly state$: BehaviorSubject<EngineState>;
  /** Every error the engine meets (connection, request, refused scope or push), as it happens. */
  readonly errors$ = new Subject<SyncError>();
  /** `syncNow()` callers waiting for the round they asked for to reach `live`. */
  #rounds: { resolve(): void; reject(e: SynclineError): void }[] = [];
  /** Push latencies and results, and each scope's cursor and known head (see `SyncMetrics`). */
  readonly metrics$ = new BehaviorSubject<EngineMetrics>(EMPTY_ENGINE_METRICS);
  #socket: ClientSocket | undefined;
  #stopped = true;
  #paused = false;
  readonly #signal = new WakeSignal();
  #urlIndex = 0;
  #attempt = 0;
  #scopes: Set<ScopeId>;
  readonly #toPull = new Set<ScopeId>();
  #pushWanted = true;
  readonly #writes = new WriteQueue();
  readonly #live: LiveChanges;
  readonly #push: PushPipeline;
  /** What the machines beside the loop may see and do (see `EngineContext`). */
  readonly #context: EngineContext;
  #unsubs: (() => void)[] = [];
  #loop: Promise<void> | undefined;
  /** `start`'s `ready`: a connection made before it resolves waits for it before subscribing. */
  #ready: Promise<void> = Promise.resolve();
  /** Resolves when `stop` is called, ending that wait. */
  #halted: Promise<void> = Promise.resolve();
  #halt: () => void = () => undefined;
  readonly #telemetry: TelemetrySender;
  /** Fresh credentials on the live socket before the current ones expire (`reauth`). */
  readonly #refresh: CredentialRefresh;

  constructor(private readonly options: EngineOptions) {
    this.#scopes = new Set(options.scopes.map(asScopeId));
    this.#telemetry = new TelemetrySender(options.requestTimeoutMs);
    this.#refresh = new CredentialRefresh({ ...options, report: (error) => this.errors$.next(error) });
    this.state$ = new BehaviorSubject<EngineState>({
      phase: 'stopped',
      connected: false,
      lastSyncedAt: null,
      lastError: null,
      progress: {},
    });
    this.#context = {
      options,
      writes: this.#writes,
      socket: () => this.#socket,
      subscribed: (scope) => this.#scopes.has(scope),
      needPull: (scope) => this.#toPull.add(scope),
      wake: () => this.#signal.wake(),
      metric: (update) => this.metrics$.next(update(this.metrics$.value)),
      state: () => this.state$.value,
      set: (patch) => this.#set(patch),
      report: (error) => this.errors$.next(error),
    };
    this.#live = new LiveChanges(this.#context, () => this.#push.inFlight);
    this.#push = new PushPipeline(this.#context, this.#live);
  }

  /**
   * Starts the loop. With `ready`, the engine connects at once but subscribes (so pulls, pushes
   * and takes live changes) only once `ready` resolves: the leader tab connects while it still
   * adopts the rows that predate syncing, which must be queued before any server state lands.
   * A `ready` that never resolves holds the engine connected until `stop`.
   */
  start(ready?: Promise<void>): void {
    if (!this.#stopped) return;
    this.#stopped = false;
    this.#ready = ready ?? Promise.resolve();
    this.#halted = new Promise<void>((resolve) => (this.#halt = resolve));
    this.#unsubs = [
      this.options.network.subscribe(() => this.#onNetwork()),
      this.options.visibility.subscribe(() => {
        // Back in the foreground: skip the rest of the backoff.
        if (this.options.visibility.isVisible()) {
          this.#attempt = 0;
          this.#signal.wake();
        }
      }),
    ];
    this.#loop = this.#run();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    this.#halt();
    for (const u of this.#unsubs) u();
    this.#dropSocket();
    this.#signal.wake();
    await this.#loop;
    await this.#writes.idle();
    this.#set({ phase: 'stopped' });
    for (const r of this.#rounds.splice(0))
      r.reject(clientError('closed', 'sync stopped before the round finished'));
    this.errors$.complete();
  }

  /**
   * Pulls every scope and pushes the outbox now: skips a backoff wait, and resolves once that
   * round reached `live`. Rejects at once (`offline`) when offline or paused.
   */
  syncNow(): Promise<void> {
    const refusal = syncNowRefusal({
      stopped: this.#stopped,
      paused: this.#paused,
      online: this.options.network.isOnline(),
    });
    if (refusal) return Promise.reject(refusal);
    return new Promise<void>((resolve, reject) => {
      this.#rounds.push({ resolve, reject });
      for (const s of this.#scopes) this.#toPull.add(s);
      this.#attempt = 0;
      this.notifyOutbox();
    });
  }

  pause(): void {
    this.#paused = true;
    this.#dropSocket();
    this.#signal.wake();
  }

  resume(): void {
    this.#paused = false;
    this.#attempt = 0;
    this.#signal.wake();
  }

  /**
   * The outbox has new entries (local write in this or another tab), up to `lastMid` when known:
   * entries already read for pushing are no news. `entries`: what this tab's committed
   * transaction queued (pushed from memory when they are next; see `queued-run.ts`).
   */
  notifyOutbox(lastMid?: number, entries?: readonly OutboxEntry[]): void {
    if (!this.#push.notice(lastMid, entries)) return;
    this.#pushWanted = true;
    this.#signal.wake();
  }

  setScopes(scopes: readonly string[]): void {
    this.#scopes = new Set(scopes.map(asScopeId));
    for (const s of this.#toPull) if (!this.#scopes.has(s)) this.#toPull.delete(s);
    this.#dropSocket(); // resubscribe from scratch on the next connection
    this.#signal.wake();
  }

  get socket(): ClientSocket | undefined {
    return this.#socket;
  }

  /**
   * Sends a telemetry report when connected. Best effort: failures are ignored, and a server
   * that does not know the event is not asked again on this connection.
   */
  sendTelemetry(report: TelemetryReport): Promise<void> {
    return this.#telemetry.send(this.#socket, report);
  }

  #set(patch: Partial<EngineState>): void {
    this.state$.next({ ...this.state$.value, ...patch });
  }

  #onNetwork(): void {
    if (!this.options.network.isOnline()) this.#dropSocket();
    else this.#attempt = 0;
    this.#signal.wake();
  }

  #dropSocket(): void {
    const s = this.#socket;
    this.#socket = undefined;
    this.#refresh.detach();
    this.#push.drop(); // the unanswered batches are still in the outbox
    this.#live.drop(); // the next connection pulls every scope anyway
    if (s) {
      s.removeAllListeners();
      s.close();
    }
    if (this.state$.value.connected) this.#set({ connected: false });
  }

  async #run(): Promise<void> {
    while (!this.#stopped) {
      try {
        const step = nextStep({
          paused: this.#paused,
          online: this.options.network.isOnline(),
          connected: this.#socket !== undefined,
          pullsWanted: this.#toPull.size,
          pushWanted: this.#pushWanted,
        });
        if (step === 'paused' || step === 'offline') {
          this.#dropSocket();
          this.#set({ phase: step });
          await this.#signal.sleep();
        } else if (step === 'connect') {
          await this.#connect();
        } else if (step === 'pull') {
          this.#set({ phase: 'pulling' });
          const scope = this.#toPull.values().next().value!;
          // Taken off first, so a request made during the pull (syncNow) pulls again after it.
          // A failed pull loses nothing: the next connection pulls every scope.
          this.#toPull.delete(scope);
          await pullScope(this.#context, this.#live, scope);
        } else if (step === 'push') {
          this.#set({ phase: 'pushing' });
          this.#pushWanted = await this.#push.step();
        } else {
          this.#attempt = 0;
          this.#set({ phase: 'live', lastSyncedAt: this.options.now(), lastError: null });
          for (const r of this.#rounds.splice(0)) r.resolve();
          await this.#signal.sleep();
        }
      } catch (err) {
        await this.#fail(err);
      }
    }
  }

  async #connect(): Promise<void> {
    this.#set({ phase: 'connecting' });
    const { options } = this;
    const url = options.urls[this.#urlIndex % options.urls.length]!;
    let socket: ClientSocket;
    let hello: Hello;
    try {
      ({ socket, hello } = await connectSocket({
        url,
        clientId: options.clientId,
        token: options.token,
        path: options.path,
        timeoutMs: options.requestTimeoutMs,
      }));
    } catch (err) {
      await this.#fail(err);
      return;
    }
    // The handshake overlapped the leader's start-up; nothing is subscribed before it is done.
    await Promise.race([this.#ready, this.#halted]);
    if (this.#stopped || this.#paused || !socket.connected) {
      socket.close();
      return;
    }
    this.#socket = socket;
    socket.on('disconnect', () => {
      if (this.#socket === socket) {
        this.#dropSocket();
        this.#signal.wake();
      }
    });
    socket.on('changes', (msg) => this.#live.receive(msg));
    // Access ended (expired, revoked): the server closes the socket next and we reconnect.
    socket.on('session_ended', (error) => {
      this.#set({ lastError: error });
      this.errors$.next(error);
    });
    this.#refresh.attach(socket, hello);
    this.#set({ phase: 'subscribing', connected: true });
    const res = await answered(
      request(socket, 'subscribe', { scopes: [...this.#scopes] }, options.requestTimeoutMs),
    );
    for (const s of res.scopes) {
      if (s.ok) {
        this.#toPull.add(s.scope);
        this.#context.metric((m) => withScope(m, s.scope, { head: s.head }));
      } else {
        this.#set({ lastError: s.error });
        this.errors$.next(s.error);
      }
    }
    this.#pushWanted = true;
  }

  /** A failure of the current connection or request: back off, then try the next URL. */
  async #fail(err: unknown): Promise<void> {
    const error = failureOf(err);
    this.#dropSocket();
    this.#urlIndex++;
    const delay = backoffDelay(this.#attempt++, this.options.backoff, this.options.random);
    this.#set({ phase: 'backoff', lastError: error });
    this.errors$.next(error);
    const online = this.options.network.isOnline();
    if (!waitsOutBackoff({ stopped: this.#stopped, paused: this.#paused, online })) return;
    await this.#signal.sleep(delay);
  }
}
