import {
  asVersion,
  validatePushRequest,
  type CommittedRange,
  type ClientId,
  type Limits,
  type PushResponse,
  type ScopeId,
} from '@syncline/protocol';
import type { AuthHooks, Principal } from '../auth/auth.js';
import type { Clock } from '../ops/clock.js';
import type { ServerMetrics, WriteSource } from '../ops/metrics.js';
import type { StoredHistoryEntry, SyncStorage } from '../storage/storage.js';
import { applyPush } from './apply-push.js';
import type { CollectionsConfig } from './collections.js';
import type { CommitBus } from './commit-bus.js';

/** What the write path needs from the server. */
export interface PushDeps {
  readonly storage: SyncStorage;
  readonly auth: AuthHooks;
  readonly collections: CollectionsConfig;
  readonly limits: Limits;
  readonly clock: Clock;
  readonly metrics: ServerMetrics;
  readonly commits: CommitBus;
}

/** Who pushes: the principal, the client id bound to it, and whether it is a client or a backend. */
export interface Pusher {
  readonly principal: Principal;
  readonly clientId: ClientId;
  readonly source: WriteSource;
  /** The pushing socket's id: its own commits are not broadcast back to it (see `CommittedRange`). */
  readonly origin?: string;
}

/**
 * The one write path, shared by socket clients and server-side writes: validates the push as a
 * whole against the protocol schema and limits, authorizes each scope once per push (`push`
 * action; a refused scope rejects its mutations with `forbidden`), applies it exactly once per
 * (client id, mid) in one storage transaction (`applyPush`), and publishes the commit to the
 * commit bus (live fan-out, change feeds, webhooks) in commit order. Records push metrics.
 *
 * The client id must already be bound to the principal (handshake or server-write API).
 * Storage failures reject the promise; nothing was applied then.
 */
export async function runPush(deps: PushDeps, who: Pusher, payload: unknown): Promise<PushResponse> {
  const started = performance.now();
  const req = validatePushRequest(payload, deps.limits);
  if (!req.ok) return req;
  const mutations = req.value.mutations;
  // Authorize every scope before the transaction: an auth hook doing I/O must not hold the
  // storage's write lock (SQLite's one writer, PostgreSQL's scope locks) while it waits.
  const scopes = [...new Set(mutations.map((m) => m.scope))];
  const verdicts = await Promise.all(
    scopes.map(async (scope) => deps.auth.authorize(who.principal, scope, 'push')),
  );
  const allowed = new Map<ScopeId, boolean>(scopes.map((scope, i) => [scope, Boolean(verdicts[i])]));
  const out = await applyPush(
    deps.storage,
    {
      clientId: who.clientId,
      userId: who.principal.id,
      now: deps.clock.now(),
      collections: deps.collections,
      limits: deps.limits,
      canPush: (scope) => allowed.get(scope) === true,
    },
    mutations,
    (committed) => {
      deps.metrics.recordCommitted(who.source, committed);
      deps.commits.publish({
        changes: committed,
        source: who.source,
        committedAt: performance.now(),
        ...(who.origin !== undefined ? { origin: who.origin } : {}),
      });
    },
  );
  deps.metrics.pushLatency.observe({ source: who.source }, (performance.now() - started) / 1000);
  if (!out.ok) return out;
  deps.metrics.recordPush(who.source, mutations, out.results);
  return { ok: true, results: out.results, committed: committedRanges(out.committed) };
}

/** The versions a push committed, per scope (consecutive within a scope: one transaction). */
function committedRanges(committed: readonly StoredHistoryEntry[]): CommittedRange[] {
  const byScope = new Map<ScopeId, { min: number; max: number; count: number }>();
  for (const e of committed) {
    const r = byScope.get(e.scope);
    if (r) {
      r.min = Math.min(r.min, e.version);
      r.max = Math.max(r.max, e.version);
      r.count++;
    } else byScope.set(e.scope, { min: e.version, max: e.version, count: 1 });
  }
  // Never anything but consecutive; were it not, naming no range only costs the client a pull.
  return [...byScope]
    .filter(([, r]) => r.max - r.min + 1 === r.count)
    .map(([scope, r]) => ({ scope, after: asVersion(r.min - 1), count: r.count }));
}
