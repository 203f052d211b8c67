import {
  asScopeId,
  asVersion,
  MAX_TELEMETRY_SCOPES,
  type MutationResult,
  type MutationStatus,
  type TelemetryReport,
} from '@syncline/protocol';

/** Where a scope stands: the durable cursor, the newest head heard of, and the gap between them. */
export interface ScopeSyncMetrics {
  readonly cursor: number;
  readonly head: number;
  /** `head - cursor` (never negative): versions committed on the server not yet stored here. */
  readonly lag: number;
}

/** This client's own sync health (see `SyncClient.metrics$`). */
export interface SyncMetrics {
  /** When these figures were computed, ms since the epoch. */
  readonly at: number;
  /** Mutations waiting in the outbox (all tabs). */
  readonly queueDepth: number;
  /** How long the oldest pending mutation has waited, or null when the outbox is empty. */
  readonly oldestPendingAgeMs: number | null;
  /** Push round trips (request to acknowledgement): the last one and the mean of the last 20. */
  readonly pushLatencyMs: { readonly last: number | null; readonly mean: number | null };
  /** Pushes acknowledged since this tab started leading. */
  readonly pushes: number;
  /** Push results by status since this tab started leading. */
  readonly results: Readonly<Record<MutationStatus, number>>;
  /** Share of the last 100 decided results (duplicates aside) that were `merged` or `conflict`. */
  readonly conflictRate: number;
  /** Per wanted scope this tab has heard of (leader tab only). */
  readonly scopes: Readonly<Record<string, ScopeSyncMetrics>>;
}

/** What the sync engine measures; the outbox figures come from the database. */
export interface EngineMetrics {
  readonly pushes: number;
  /** The last push round trips, newest last. */
  readonly latencies: readonly number[];
  readonly results: Readonly<Record<MutationStatus, number>>;
  /** The last decided results, newest last: true when concurrent (`merged`/`conflict`). */
  readonly recent: readonly boolean[];
  readonly scopes: Readonly<Record<string, { readonly cursor: number; readonly head: number }>>;
}

const LATENCY_WINDOW = 20;
const RESULT_WINDOW = 100;

export const EMPTY_ENGINE_METRICS: EngineMetrics = {
  pushes: 0,
  latencies: [],
  results: { applied: 0, merged: 0, conflict: 0, rejected: 0, duplicate: 0 },
  recent: [],
  scopes: {},
};

/** Folds one acknowledged push in. */
export function withPush(
  m: EngineMetrics,
  latencyMs: number,
  results: readonly MutationResult[],
): EngineMetrics {
  const counts = { ...m.results };
  const recent = [...m.recent];
  for (const r of results) {
    counts[r.status]++;
    if (r.status !== 'duplicate') recent.push(r.status === 'merged' || r.status === 'conflict');
  }
  return {
    ...m,
    pushes: m.pushes + 1,
    latencies: [...m.latencies, Math.max(0, latencyMs)].slice(-LATENCY_WINDOW),
    results: counts,
    recent: recent.slice(-RESULT_WINDOW),
  };
}

/**
 * Moves a scope's position: `cursor` is set as given (a reset may lower it), `head` only rises
 * and is never below the cursor.
 */
export function withScope(
  m: EngineMetrics,
  scope: string,
  at: { readonly cursor?: number; readonly head?: number },
): EngineMetrics {
  const old = m.scopes[scope] ?? { cursor: 0, head: 0 };
  const cursor = at.cursor ?? old.cursor;
  const head = Math.max(old.head, at.head ?? 0, cursor);
  return { ...m, scopes: { ...m.scopes, [scope]: { cursor, head } } };
}

/** The public figures at time `now`, for the wanted scopes only. */
export function toSyncMetrics(
  m: EngineMetrics,
  outbox: { readonly pending: number; readonly oldestPendingAt: number | null },
  wanted: readonly string[],
  now: number,
): SyncMetrics {
  const scopes: Record<string, ScopeSyncMetrics> = {};
  for (const scope of wanted) {
    const s = m.scopes[scope];
    if (s) scopes[scope] = { cursor: s.cursor, head: s.head, lag: Math.max(0, s.head - s.cursor) };
  }
  const concurrent = m.recent.filter(Boolean).length;
  return {
    at: now,
    queueDepth: outbox.pending,
    oldestPendingAgeMs: outbox.oldestPendingAt === null ? null : Math.max(0, now - outbox.oldestPendingAt),
    pushLatencyMs: {
      last: m.latencies[m.latencies.length - 1] ?? null,
      mean: m.latencies.length === 0 ? null : m.latencies.reduce((a, b) => a + b, 0) / m.latencies.length,
    },
    pushes: m.pushes,
    results: m.results,
    conflictRate: m.recent.length === 0 ? 0 : concurrent / m.recent.length,
    scopes,
  };
}

const MAX_MS = 1e12;

/** The compact summary sent to the server (`telemetry` event). */
export function toTelemetryReport(m: SyncMetrics): TelemetryReport {
  return {
    scopes: Object.entries(m.scopes)
      .slice(0, MAX_TELEMETRY_SCOPES)
      .map(([scope, s]) => ({
        scope: asScopeId(scope),
        cursor: asVersion(s.cursor),
        head: asVersion(s.head),
      })),
    pending: m.queueDepth,
    oldestPendingAgeMs: m.oldestPendingAgeMs === null ? null : Math.min(MAX_MS, m.oldestPendingAgeMs),
    pushLatencyMs: m.pushLatencyMs.mean === null ? null : Math.min(MAX_MS, m.pushLatencyMs.mean),
    conflictRate: m.conflictRate,
  };
}
