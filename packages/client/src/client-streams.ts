// The live streams `SyncClient` exposes, built once from the database and the client's own
// state subjects. Each completes when the client closes.
import type { Dexie } from 'dexie';
import {
  combineLatest,
  distinctUntilChanged,
  map,
  shareReplay,
  takeUntil,
  timer,
  type Observable,
} from 'rxjs';
import { decodeConflict, type AppConflictEntry } from './app-values.js';
import { localCounts$, sameData, scopeStates$, toStatus, type ScopeSyncState } from './client-observables.js';
import type { EngineState } from './engine/sync-engine.js';
import type { AdoptionProgress } from './store/adopt-existing.js';
import { liveConflicts, liveOutbox, liveRejections } from './store/live-queries.js';
import type { OutboxEntry, RejectionEntry } from './store/schema.js';
import type { SyncStatus } from './status.js';
import { toSyncMetrics, type EngineMetrics, type SyncMetrics } from './sync-metrics.js';

/** How often `metrics$` re-emits with nothing else changing, so ages stay current. */
export const METRICS_TICK_MS = 1000;

/** What the engine side reports: the leader tab's engine, or a follower's stand-ins. */
export interface EngineSignals {
  readonly engineState$: Observable<EngineState>;
  readonly engineMetrics$: Observable<EngineMetrics>;
  /** This tab runs sync. */
  readonly leader$: Observable<boolean>;
  readonly adoption$: Observable<AdoptionProgress | null>;
}

/** What the streams are computed from, besides the database and the engine side. */
export interface StreamSources {
  readonly online$: Observable<boolean>;
  /** The scopes the client syncs (`setScopes`). */
  readonly scopes$: Observable<readonly string[]>;
  /** Emits (or completes) when the client closes. */
  readonly closed$: Observable<void>;
  readonly now: () => number;
}

/** The streams of `SyncClient` (see its fields for what each one means). */
export interface ClientStreams {
  readonly outbox$: Observable<OutboxEntry[]>;
  readonly conflicts$: Observable<AppConflictEntry[]>;
  readonly rejections$: Observable<RejectionEntry[]>;
  readonly status$: Observable<SyncStatus>;
  readonly scopes$: Observable<ScopeSyncState[]>;
  readonly metrics$: Observable<SyncMetrics>;
}

export function createClientStreams(db: Dexie, engine: EngineSignals, src: StreamSources): ClientStreams {
  // Shared: many components may watch the same lists; one live query serves them all.
  const shared = { bufferSize: 1, refCount: true } as const;
  const counts$ = localCounts$(db).pipe(shareReplay(shared));
  return {
    outbox$: liveOutbox(db).pipe(takeUntil(src.closed$), shareReplay(shared)),
    conflicts$: liveConflicts(db).pipe(
      map((list) => list.map(decodeConflict)),
      takeUntil(src.closed$),
      shareReplay(shared),
    ),
    rejections$: liveRejections(db).pipe(takeUntil(src.closed$), shareReplay(shared)),
    status$: combineLatest([
      engine.engineState$,
      counts$,
      engine.leader$,
      src.online$,
      src.scopes$,
      engine.adoption$,
    ]).pipe(
      map(([e, c, isLeader, online, wanted, adoption]) => toStatus(e, c, isLeader, online, wanted, adoption)),
      // Only changes: a repeated value would re-render every component that shows it.
      distinctUntilChanged<SyncStatus>(sameData),
      // After close() the streams complete (late subscribers get the last value, then completion).
      takeUntil(src.closed$),
      shareReplay(shared),
    ),
    scopes$: scopeStates$(db, src.scopes$, engine.engineMetrics$).pipe(
      takeUntil(src.closed$),
      shareReplay(shared),
    ),
    metrics$: combineLatest([engine.engineMetrics$, counts$, src.scopes$, timer(0, METRICS_TICK_MS)]).pipe(
      map(([m, c, wanted]) =>
        toSyncMetrics(m, { pending: c.pending, oldestPendingAt: c.oldest }, wanted, src.now()),
      ),
      takeUntil(src.closed$),
      shareReplay(shared),
    ),
  };
}
