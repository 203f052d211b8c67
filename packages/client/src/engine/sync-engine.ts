/**
 * The sync engine: one explicit state machine per leader tab.
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
 * Pushing is pipelined: up to PUSH_WINDOW batches are on the wire at once (each the outbox
 * entries after the last one sent), and each step settles the oldest answer. The server applies
 * a connection's pushes in arrival order (protocol 2), so while it commits one batch the client
 * writes the previous answer locally. Whatever interrupts (a dropped socket, a refused batch)
 * discards the window; the outbox still holds every unanswered entry, and mids make the resend
 * exactly-once.
 *
 * One loop drives the transitions; socket events only record work (a scope to pull, the outbox
 * to push) and wake the loop. All local writes go through one serial queue, so pulls, live
 * changes and push results never interleave.
 */
import { BehaviorSubject, Subject } from 'rxjs';
import {
  asScopeId,
  isRetryable,
  syncError,
  type Change,
  type ChangesMessage,
  type Limits,
  type MutationResult,
  type PullRequest,
  type PullResponse,
  type PushResponse,
  type ScopeId,
  type SyncError,
  type TelemetryReport,
} from '@syncline/protocol';
import type { LocalStore } from '../store/local-store.js';
import { placeholderMutation } from '../store/discard.js';
import type { OutboxEntry } from '../store/schema.js';
import { clientError, type SynclineError } from '../errors.js';
import { EMPTY_ENGINE_METRICS, withPush, withScope, type EngineMetrics } from '../sync-metrics.js';
import { backoffDelay, type BackoffPolicy } from './backoff.js';
import type { NetworkStatus, Visibility } from './environment.js';
import { connectSocket, ConnectError, request, type SyncSocket } from './transport.js';

export type SyncPhase =
  | 'stopped'
  | 'offline'
  | 'paused'
  | 'connecting'
  | 'backoff'
  | 'subscribing'
  | 'pulling'
  | 'pushing'
  | 'live';

export interface EngineOptions {
  readonly urls: readonly string[];
  readonly clientId: string;
  readonly token?: string | (() => string | Promise<string>) | undefined;
  readonly path?: string | undefined;
  readonly scopes: readonly string[];
  readonly store: LocalStore;
  readonly network: NetworkStatus;
  readonly visibility: Visibility;
  readonly backoff: BackoffPolicy;
  readonly now: () => number;
  readonly random: () => number;
  readonly limits: Pick<Limits, 'maxMutationsPerPush' | 'maxPayloadBytes'>;
  readonly requestTimeoutMs: number;
  readonly pullPageSize: number;
  /** Called after every applied batch (status refresh). */
  readonly onActivity: () => void;
}

export interface EngineState {
  readonly phase: SyncPhase;
  readonly connected: boolean;
  readonly lastSyncedAt: number | null;
  readonly lastError: SyncError | null;
  /** Pull progress per scope, in versions: from the cursor the pull began at to the head. */
  readonly progress: Readonly<Record<string, PullProgress>>;
}

/** One scope's pull, in versions: it began at `from`, has reached `cursor`, catches up to `head`. */
export interface PullProgress {
  readonly from: number;
  readonly cursor: number;
  readonly head: number;
  readonly done: boolean;
}

/** Push batches on the wire at once (see the header). Two keep the server and the client busy. */
const PUSH_WINDOW = 2;

/** One push on the wire: its batch, when it was sent, and its answer to come. */
interface InFlightPush {
  readonly batch: readonly OutboxEntry[];
  readonly sentAt: number;
  readonly response: Promise<PushResponse>;
}

class RequestFailed extends Error {
  constructor(readonly error: SyncError) {
    super(`${error.code}: ${error.message}`);
  }
}

export class SyncEngine {
  readonly state$: BehaviorSubject<EngineState>;
  /** Every error the engine meets (connection, request, refused scope or push), as it happens. */
  readonly errors$ = new Subject<SyncError>();
  /** `syncNow()` callers waiting for the round they asked for to reach `live`. */
  #rounds: { resolve(): void; reject(e: SynclineError): void }[] = [];
  /** Push latencies and results, and each scope's cursor and known head (see `SyncMetrics`). */
  readonly metrics$ = new BehaviorSubject<EngineMetrics>(EMPTY_ENGINE_METRICS);
  #socket: SyncSocket | undefined;
  #stopped = true;
  #paused = false;
  #wake: (() => void) | undefined;
  #urlIndex = 0;
  #attempt = 0;
  #scopes: Set<ScopeId>;
  readonly #toPull = new Set<ScopeId>();
  #pushWanted = true;
  /*
   * What is known of the outbox, so the push loop reads it only when it may hold something
   * unsent: the highest mid any read returned, the highest mid a notice announced, notices that
   * named no mid, and `#drainedAt` (the count of those when a read last saw the outbox's end;
   * -1 when unknown, e.g. after a dropped window).
   */
  #highestRead = 0;
  #highestNotified = 0;
  #vagueNews = 0;
  #drainedAt = -1;
  /** Pushes sent on the current socket and not settled yet, oldest first. */
  #inFlight: InFlightPush[] = [];
  /**
   * Live messages that did not continue the cursor while pushes were in flight: the missing
   * versions may be this client's own commits, which arrive in a push response, not as a
   * broadcast. Tried again after each settled push; pulled for once nothing is in flight.
   */
  #held: ChangesMessage[] = [];
  /** This client's highest mid known to be reflected in server state we have applied. */
  #knownIncluded = 0;
  #serial: Promise<unknown> = Promise.resolve();
  #unsubs: (() => void)[] = [];
  #loop: Promise<void> | undefined;
  #maxPerPush: number;
  /** The socket whose server refused telemetry as an unknown event (an older server). */
  #telemetryRefused: SyncSocket | undefined;

  constructor(private readonly o: EngineOptions) {
    this.#scopes = new Set(o.scopes.map(asScopeId));
    this.#maxPerPush = o.limits.maxMutationsPerPush;
    this.state$ = new BehaviorSubject<EngineState>({
      phase: 'stopped',
      connected: false,
      lastSyncedAt: null,
      lastError: null,
      progress: {},
    });
  }

  start(): void {
    if (!this.#stopped) return;
    this.#stopped = false;
    this.#unsubs = [
      this.o.network.subscribe(() => this.#onNetwork()),
      this.o.visibility.subscribe(() => {
        // Back in the foreground: skip the rest of the backoff.
        if (this.o.visibility.isVisible()) {
          this.#attempt = 0;
          this.#poke();
        }
      }),
    ];
    this.#loop = this.#run();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    for (const u of this.#unsubs) u();
    this.#dropSocket();
    this.#poke();
    await this.#loop;
    await this.#serial;
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
    if (this.#stopped) return Promise.reject(clientError('closed', 'sync is stopped'));
    if (this.#paused || !this.o.network.isOnline())
      return Promise.reject(
        clientError('offline', this.#paused ? 'sync is paused' : 'the network is offline'),
      );
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
    this.#poke();
  }

  resume(): void {
    this.#paused = false;
    this.#attempt = 0;
    this.#poke();
  }

  /**
   * The outbox has new entries (local write in this or another tab), up to `lastMid` when known:
   * entries already read for pushing are no news.
   */
  notifyOutbox(lastMid?: number): void {
    if (lastMid === undefined) this.#vagueNews++;
    else if (lastMid <= this.#highestRead) return;
    else this.#highestNotified = Math.max(this.#highestNotified, lastMid);
    this.#pushWanted = true;
    this.#poke();
  }

  setScopes(scopes: readonly string[]): void {
    this.#scopes = new Set(scopes.map(asScopeId));
    for (const s of this.#toPull) if (!this.#scopes.has(s)) this.#toPull.delete(s);
    this.#dropSocket(); // resubscribe from scratch on the next connection
    this.#poke();
  }

  get socket(): SyncSocket | undefined {
    return this.#socket;
  }

  /**
   * Sends a telemetry report when connected. Best effort: failures are ignored, and a server
   * that does not know the event is not asked again on this connection.
   */
  async sendTelemetry(report: TelemetryReport): Promise<void> {
    const socket = this.#socket;
    if (!socket?.connected || this.#telemetryRefused === socket) return;
    try {
      const res = await request(socket, 'telemetry', report, this.o.requestTimeoutMs);
      if (!res.ok && res.error.code === 'unknown_event') this.#telemetryRefused = socket;
    } catch {
      // Telemetry never disturbs sync.
    }
  }

  #metric(update: (m: EngineMetrics) => EngineMetrics): void {
    this.metrics$.next(update(this.metrics$.value));
  }

  #set(patch: Partial<EngineState>): void {
    this.state$.next({ ...this.state$.value, ...patch });
  }

  #poke(): void {
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }

  #sleep(ms?: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = ms === undefined ? undefined : setTimeout(() => this.#poke(), ms);
      this.#wake = () => {
        if (timer !== undefined) clearTimeout(timer);
        resolve();
      };
    });
  }

  #onNetwork(): void {
    if (!this.o.network.isOnline()) this.#dropSocket();
    else this.#attempt = 0;
    this.#poke();
  }

  #serially<R>(fn: () => Promise<R>): Promise<R> {
    const next = this.#serial.then(fn);
    this.#serial = next.catch(() => undefined);
    return next;
  }

  #dropSocket(): void {
    const s = this.#socket;
    this.#socket = undefined;
    this.#inFlight = [];
    this.#drainedAt = -1; // the unanswered batches are still in the outbox
    this.#held = []; // the next connection pulls every scope anyway
    if (s) {
      s.removeAllListeners();
      s.close();
    }
    if (this.state$.value.connected) this.#set({ connected: false });
  }

  async #run(): Promise<void> {
    while (!this.#stopped) {
      try {
        if (this.#paused || !this.o.network.isOnline()) {
          this.#dropSocket();
          this.#set({ phase: this.#paused ? 'paused' : 'offline' });
          await this.#sleep();
          continue;
        }
        if (!this.#socket) {
          await this.#connect();
          continue;
        }
        if (this.#toPull.size > 0) {
          this.#set({ phase: 'pulling' });
          const scope = this.#toPull.values().next().value!;
          // Taken off first, so a request made during the pull (syncNow) pulls again after it.
          // A failed pull loses nothing: the next connection pulls every scope.
          this.#toPull.delete(scope);
          await this.#pullScope(scope);
          continue;
        }
        if (this.#pushWanted) {
          this.#set({ phase: 'pushing' });
          this.#pushWanted = await this.#pushStep();
          continue;
        }
        this.#attempt = 0;
        this.#set({ phase: 'live', lastSyncedAt: this.o.now(), lastError: null });
        for (const r of this.#rounds.splice(0)) r.resolve();
        await this.#sleep();
      } catch (err) {
        await this.#fail(err);
      }
    }
  }

  async #connect(): Promise<void> {
    this.#set({ phase: 'connecting' });
    const url = this.o.urls[this.#urlIndex % this.o.urls.length]!;
    let socket: SyncSocket;
    try {
      socket = await connectSocket({
        url,
        clientId: this.o.clientId,
        token: this.o.token,
        path: this.o.path,
        timeoutMs: this.o.requestTimeoutMs,
      });
    } catch (err) {
      await this.#fail(err);
      return;
    }
    if (this.#stopped || this.#paused) {
      socket.close();
      return;
    }
    this.#socket = socket;
    socket.on('disconnect', () => {
      if (this.#socket === socket) {
        this.#dropSocket();
        this.#poke();
      }
    });
    socket.on(
      'changes',
      (msg) => void this.#serially(() => this.#onChanges(msg)).catch(() => this.#toPull.add(msg.scope)),
    );
    this.#set({ phase: 'subscribing', connected: true });
    const res = await this.#request(
      request(socket, 'subscribe', { scopes: [...this.#scopes] }, this.o.requestTimeoutMs),
    );
    for (const s of res.scopes) {
      if (s.ok) {
        this.#toPull.add(s.scope);
        this.#metric((m) => withScope(m, s.scope, { head: s.head }));
      } else {
        this.#set({ lastError: s.error });
        this.errors$.next(s.error);
      }
    }
    this.#pushWanted = true;
  }

  /** A failure of the current connection or request: back off, then try the next URL. */
  async #fail(err: unknown): Promise<void> {
    const error =
      err instanceof RequestFailed || err instanceof ConnectError
        ? err.error
        : syncError('internal', err instanceof Error ? err.message : String(err));
    this.#dropSocket();
    this.#urlIndex++;
    const delay = backoffDelay(this.#attempt++, this.o.backoff, this.o.random);
    this.#set({ phase: 'backoff', lastError: error });
    this.errors$.next(error);
    // Stopped, paused or offline meanwhile: the loop handles that now, not after a backoff.
    if (this.#stopped || this.#paused || !this.o.network.isOnline()) return;
    await this.#sleep(delay);
  }

  async #request<R extends { ok: boolean }>(p: Promise<R>): Promise<R & { ok: true }> {
    let res: R;
    try {
      res = await p;
    } catch {
      throw new RequestFailed(syncError('internal', 'request timed out or the connection dropped'));
    }
    if (!res.ok) throw new RequestFailed((res as unknown as { error: SyncError }).error);
    return res as R & { ok: true };
  }

  /**
   * Pulls a scope to its head, page by page. The next page is requested before the current one
   * is written, so the network and IndexedDB work overlap instead of taking turns: a first sync
   * costs about max(transfer, write), not their sum. (A page prefetched from a cursor that live
   * changes have since overtaken only repeats versions, which settling skips.)
   */
  async #pullScope(scope: ScopeId): Promise<void> {
    const socket = this.#socket;
    if (!socket) return;
    const ask = (after: number, horizon: number) =>
      this.#request(
        request(
          socket,
          'pull',
          { scope, after, horizon, limit: this.o.pullPageSize } as PullRequest,
          this.o.requestTimeoutMs,
        ),
      );
    const row = await this.o.store.scopeRow(scope);
    const began = row.cursor;
    let from = row.cursor;
    let horizon = row.horizon;
    let next: Promise<PullResponse & { ok: true }> = ask(row.cursor, row.horizon);
    for (;;) {
      const res = await next;
      const starts = from === 0 || res.reset;
      // A copy begun now carries this page's horizon (the server's reset check needs it).
      if (starts) horizon = res.horizon;
      // Handled (awaited) below; a failure of the prefetch is reported when its turn comes.
      if (res.hasMore) {
        next = ask(res.upTo, horizon);
        next.catch(() => undefined);
      }
      const dropped = await this.#serially(async () => {
        // Unsubscribed meanwhile: its rows are being evicted, never written again.
        if (!this.#scopes.has(scope)) return true;
        await this.o.store.applyChanges(scope, res.changes, (c) => this.#includedFor(c, res.lastMid), {
          to: res.upTo,
          ...(starts ? { horizon: res.horizon } : {}),
          reset: res.reset,
          complete: !res.hasMore,
        });
        this.#knownIncluded = Math.max(this.#knownIncluded, res.lastMid);
        return false;
      });
      if (dropped) return;
      this.#metric((m) => withScope(m, scope, { cursor: res.upTo, head: res.head }));
      this.#set({
        progress: {
          ...this.state$.value.progress,
          [scope]: {
            from: res.reset ? 0 : Math.min(began, res.upTo),
            cursor: res.upTo,
            head: Math.max(res.head, res.upTo),
            done: !res.hasMore,
          },
        },
      });
      this.o.onActivity();
      if (!res.hasMore) return;
      from = res.upTo;
      // Let the app's live queries read between pages. A Dexie live query whose read lands
      // behind the next page's write is invalidated by it and re-run, never emitted: with
      // pages back to back, a list stayed empty until the whole first sync was done.
      await new Promise<void>((resolve) => setTimeout(resolve, 0));
    }
  }

  #includedFor(c: Change, floor: number): number {
    return c.clientId === this.o.clientId && c.mid !== null ? Math.max(c.mid, floor) : floor;
  }

  async #onChanges(msg: ChangesMessage): Promise<void> {
    if (!this.#scopes.has(msg.scope)) return;
    const end = msg.after + msg.changes.length;
    const out = await this.o.store.applyLive(msg.scope, msg.after, msg.changes, (c) =>
      this.#includedFor(c, this.#knownIncluded),
    );
    if (out === 'stale') return; // already have all of it
    if (out === 'gap') {
      this.#metric((m) => withScope(m, msg.scope, { head: end }));
      // Our own commits may fill it: wait for the pushes in flight to be answered.
      if (this.#inFlight.length > 0) {
        this.#held.push(msg);
        return;
      }
      // Something was missed. Pulling is always complete.
      this.#toPull.add(msg.scope);
      this.#poke();
      return;
    }
    for (const c of out.fresh)
      if (c.clientId === this.o.clientId && c.mid !== null)
        this.#knownIncluded = Math.max(this.#knownIncluded, c.mid);
    this.#metric((m) => withScope(m, msg.scope, { cursor: end, head: end }));
    this.#set({ lastSyncedAt: this.o.now() });
    this.o.onActivity();
  }

  /**
   * One step of the push pipeline: fills the window with batches from the outbox entries after
   * the last one sent, then waits for the oldest answer and settles it. Returns whether anything
   * is left to send or settle.
   */
  async #pushStep(): Promise<boolean> {
    const socket = this.#socket;
    if (!socket) return true;
    // Once a read has seen the end of the outbox, nothing new is there until the next notice.
    while (this.#inFlight.length < PUSH_WINDOW && !this.#drained()) {
      const last = this.#inFlight[this.#inFlight.length - 1]?.batch;
      const after = last ? last[last.length - 1]!.mid : 0;
      const news = this.#vagueNews;
      const head = await this.#outboxHead(after);
      // The socket may have dropped (and the window with it) while the outbox was read.
      if (this.#socket !== socket) break;
      this.#highestRead = Math.max(this.#highestRead, head[head.length - 1]?.mid ?? 0);
      const batch = cutBatch(head, this.#maxPerPush, this.o.limits.maxPayloadBytes);
      if (batch.length === head.length) this.#drainedAt = news; // all there is after `after`
      if (batch.length === 0) break;
      const response = request(
        socket,
        'push',
        { mutations: batch.map((e) => e.mutation) },
        this.o.requestTimeoutMs,
      );
      response.catch(() => undefined); // awaited when its turn comes, or discarded with the window
      this.#inFlight.push({ batch, sentAt: this.o.now(), response });
    }
    if (this.#socket !== socket) return true; // dropped: push again on the next connection
    const oldest = this.#inFlight[0];
    if (!oldest) {
      // The outbox is empty. Gaps still held after the last answer were not ours: pull them.
      for (const msg of this.#held.splice(0)) this.#toPull.add(msg.scope);
      return false;
    }
    let res: PushResponse & { ok: true };
    try {
      res = await this.#request(oldest.response);
      this.#metric((m) => withPush(m, this.o.now() - oldest.sentAt, res.results));
    } catch (err) {
      // The batches behind a refused one start past a mid that was not consumed: the server
      // refuses them as gaps, applying nothing. They are sent again from the outbox.
      this.#inFlight = [];
      this.#drainedAt = -1;
      if (err instanceof RequestFailed && !isRetryable(err.error.code) && err.error.code !== 'mid_gap') {
        this.errors$.next(err.error);
        await this.#quarantine(oldest.batch, err.error);
        return true;
      }
      throw err;
    }
    this.#inFlight.shift();
    await this.#serially(async () => {
      const { cursors } = await this.o.store.applyResults(oldest.batch, res.results, res.committed);
      for (const r of res.results) {
        this.#knownIncluded = Math.max(this.#knownIncluded, r.mid);
        // A duplicate's outcome is only in server state: fetch it.
        if (r.status === 'duplicate')
          this.#toPull.add(oldest.batch.find((e) => e.mid === r.mid)!.mutation.scope);
      }
      for (const [scope, cursor] of cursors) this.#metric((m) => withScope(m, scope, { cursor }));
      const held = this.#held;
      this.#held = [];
      for (const msg of held) await this.#onChanges(msg);
    });
    this.#maxPerPush = this.o.limits.maxMutationsPerPush;
    this.o.onActivity();
    return true;
  }

  /** Nothing unsent can be in the outbox: a read saw its end and every notice since is covered. */
  #drained(): boolean {
    return this.#drainedAt === this.#vagueNews && this.#highestNotified <= this.#highestRead;
  }

  /**
   * Enough of the outbox head for one batch: one entry past the count limit (to see whether a
   * txn crosses it), and more only while a txn that starts the head runs past what was read
   * (a txn is never split, so it is pushed whole).
   */
  async #outboxHead(after: number): Promise<OutboxEntry[]> {
    let limit = this.#maxPerPush + 1;
    for (;;) {
      const entries = await this.o.store.pendingEntries(limit, after);
      const txn = entries[0]?.mutation.txn;
      if (entries.length < limit || txn === undefined || entries[limit - 1]?.mutation.txn !== txn)
        return entries;
      limit *= 2;
    }
  }

  /**
   * A push refused as a whole and not retryable: one of its mutations can never be accepted
   * (e.g. the server's limits are lower than this client's). Isolate it by pushing one at a
   * time; the lone offender is replaced on the wire by a mutation the server always rejects
   * (restore of a version that cannot exist) so its mid is consumed and the queue moves on,
   * and it is rolled back and reported locally with the original error.
   */
  async #quarantine(batch: readonly OutboxEntry[], error: SyncError): Promise<void> {
    const first = batch[0]!;
    if (batch.length > 1 && first.mutation.txn === undefined) {
      this.#maxPerPush = 1; // isolate the offender
      return;
    }
    const socket = this.#socket;
    if (!socket) return;
    const placeholders = batch.map((e) => placeholderMutation(e.mutation));
    const res: PushResponse & { ok: true } = await this.#request(
      request(socket, 'push', { mutations: placeholders }, this.o.requestTimeoutMs),
    );
    await this.#serially(() =>
      this.o.store.applyResults(
        batch,
        res.results.map((r): MutationResult => (r.status === 'rejected' ? { ...r, error } : r)),
        res.committed,
      ),
    );
    this.o.onActivity();
  }
}

/** The outbox head that fits one push: within the count and payload limits, txns never split. */
function cutBatch(entries: readonly OutboxEntry[], maxCount: number, maxBytes: number): OutboxEntry[] {
  let bytes = 0;
  let end = 0;
  for (; end < entries.length && end < maxCount; end++) {
    bytes += JSON.stringify(entries[end]!.mutation).length;
    if (bytes > maxBytes / 2 && end > 0) break;
  }
  end = Math.max(1, end);
  const txn = entries[end - 1]?.mutation.txn;
  if (txn === undefined || entries[end]?.mutation.txn !== txn) return entries.slice(0, end);
  // The batch would split a txn: cut before it, or if it starts the batch, send all of it.
  const start = entries.findIndex((e) => e.mutation.txn === txn);
  if (start > 0) return entries.slice(0, start);
  let stop = end;
  while (entries[stop]?.mutation.txn === txn) stop++;
  return entries.slice(0, stop);
}
