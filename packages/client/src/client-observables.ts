// The derived observables of `SyncClient`: the status value, and the read-only views a tool
// (inspector, devtools) needs without knowing Syncline's table names.
import { liveQuery, type Dexie } from 'dexie';
import { combineLatest, distinctUntilChanged, from, map, type Observable } from 'rxjs';
import { ScopeHasher, type SyncError } from '@syncline/protocol';
import type { EngineState, PullProgress } from './engine/sync-engine.js';
import type { AdoptionProgress } from './store/adopt-existing.js';
import { localScopeHash } from './store/local-queries.js';
import { recordsWithPending, storedScopes, type LocalCounts } from './store/client-queries.js';
import { liveCounts } from './store/live-queries.js';
import type { InitialSyncProgress, SyncProgress, SyncStatus } from './status.js';
import type { EngineMetrics } from './sync-metrics.js';

/** One synced record as the client knows it (see `SyncClient.records$`). */
export interface RecordSyncState {
  readonly table: string;
  readonly id: string;
  readonly scope: string;
  /** The last server version settled here (0: not on the server yet). */
  readonly version: number;
  /** Outbox entries waiting for this record (0: the local copy is the server's). */
  readonly pending: number;
}

/** One scope as the client knows it (see `SyncClient.scopes$`). */
export interface ScopeSyncState {
  readonly scope: string;
  /** Among the scopes the client currently syncs (`setScopes`). */
  readonly subscribed: boolean;
  /** Every version up to this one is stored here. */
  readonly cursor: number;
  /** The newest version the server announced (leader tab, this session), or null. */
  readonly head: number | null;
  /** Pulled to its head at least once: the initial sync of this scope is done. */
  readonly synced: boolean;
  /** The local copy's content hash, as the server computes it (compare with `serverHash`). */
  readonly hash: string;
  /** Records in the local copy. */
  readonly count: number;
}

/** The counts behind `status$` and `metrics$`, live. */
export function localCounts$(db: Dexie): Observable<LocalCounts> {
  return liveCounts(db);
}

function progress(p: PullProgress | undefined, synced: boolean): SyncProgress & { head: number } {
  const done = synced || p?.done === true;
  const total = p ? Math.max(0, p.head - p.from) : 0;
  const pulled = p ? Math.min(total, Math.max(0, p.cursor - p.from)) : 0;
  return {
    pulled: done ? total : pulled,
    total,
    fraction: fractionOf(done, pulled, total),
    done,
    head: p?.head ?? 0,
  };
}

/** Progress as a fraction from 0 to 1 for a progress bar (1 once done). */
function fractionOf(done: boolean, pulled: number, total: number): number {
  return done ? 1 : total > 0 ? pulled / total : 0;
}

/** The status value from its sources (see `SyncClient.status$`). */
export function toStatus(
  e: EngineState,
  c: LocalCounts,
  isLeader: boolean,
  online: boolean,
  wanted: readonly string[],
  adoption: AdoptionProgress | null,
): SyncStatus {
  const scopes: Record<string, SyncProgress & { head: number }> = {};
  for (const s of wanted) {
    const p = progress(e.progress[s], c.scopes[s]?.synced === true);
    // A follower (or a copy synced in an earlier session) knows its cursor, not the head.
    scopes[s] = e.progress[s] ? p : { ...p, head: c.scopes[s]?.cursor ?? 0 };
  }
  const all = Object.values(scopes);
  const pulled = all.reduce((n, p) => n + p.pulled, 0);
  const total = all.reduce((n, p) => n + p.total, 0);
  const done = all.every((p) => p.done);
  const initialSync: InitialSyncProgress = {
    done,
    pulled,
    total,
    fraction: fractionOf(done, pulled, total),
    scopes,
  };
  return {
    online,
    connected: e.connected,
    phase: e.phase,
    isLeader,
    pending: c.pending,
    oldestPendingAt: c.oldest,
    lastSyncedAt: e.lastSyncedAt,
    initialSync,
    conflicts: c.conflicts,
    rejections: c.rejections,
    lastError: e.lastError,
    adoption,
  };
}

/** Structural equality of plain data (what status values and the views are made of). */
export function sameData(a: unknown, b: unknown): boolean {
  if (Object.is(a, b)) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  if (ka.length !== kb.length) return false;
  const ra = a as Record<string, unknown>;
  const rb = b as Record<string, unknown>;
  return ka.every((k) => Object.prototype.hasOwnProperty.call(rb, k) && sameData(ra[k], rb[k]));
}

const EMPTY_HASH = new ScopeHasher().digest();

/** Each synced record of `table` with its version and pending outbox entries, by id. */
export function recordStates$(db: Dexie, table: string): Observable<RecordSyncState[]> {
  return from(
    liveQuery(async () => {
      const { metas, pending } = await recordsWithPending(db, table);
      return metas.map((m): RecordSyncState => ({
        table: m.table,
        id: m.id,
        scope: m.scope,
        version: m.version,
        pending: pending.get(m.id) ?? 0,
      }));
    }),
  ).pipe(distinctUntilChanged<RecordSyncState[]>(sameData));
}

/**
 * Every scope the client syncs or holds records of: cursor, head, whether its initial sync is
 * done, and the local content hash. The hash is recomputed over the scope's records on every
 * change: meant for tools, not for hot paths.
 */
export function scopeStates$(
  db: Dexie,
  wanted$: Observable<readonly string[]>,
  metrics$: Observable<EngineMetrics>,
): Observable<ScopeSyncState[]> {
  const local$ = from(
    liveQuery(async () => {
      const { rows, held } = await storedScopes(db);
      const names = [...new Set([...rows.map((r) => r.scope as string), ...held])];
      return Promise.all(
        names.map(async (scope) => ({
          row: rows.find((r) => r.scope === scope),
          scope,
          ...(await localScopeHash(db, scope)),
        })),
      );
    }),
  );
  return combineLatest([local$, wanted$, metrics$]).pipe(
    map(([local, wanted, metrics]) => {
      const names = [...new Set([...wanted, ...local.map((l) => l.scope)])].sort();
      return names.map((scope): ScopeSyncState => {
        const l = local.find((x) => x.scope === scope);
        return {
          scope,
          subscribed: wanted.includes(scope),
          cursor: l?.row?.cursor ?? 0,
          head: metrics.scopes[scope]?.head ?? null,
          synced: l?.row?.synced === true,
          hash: l?.hash ?? EMPTY_HASH,
          count: l?.count ?? 0,
        };
      });
    }),
    distinctUntilChanged<ScopeSyncState[]>(sameData),
  );
}

/** A `SyncError` for `errors$`, with when it happened. */
export interface SyncErrorEvent extends SyncError {
  /** ms since the epoch. */
  readonly at: number;
}
