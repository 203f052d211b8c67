// Awaiting sync: "everything I wrote so far is on the server" (`whenSynced`), one write's
// answer (`whenAcknowledged`), and helpers to bound any wait by a timeout and the client's life.
// Everything reads the shared IndexedDB tables, so it works in follower tabs too.
import type { Dexie } from 'dexie';
import { filter, firstValueFrom, ReplaySubject, takeUntil, type Observable } from 'rxjs';
import { decodeConflict, type AppConflictEntry } from './app-values.js';
import { clientError, SynclineError } from './errors.js';
import {
  allConflicts,
  lastAssignedMid,
  rejectionByMid,
  rejectionsByMids,
  waitStartAt,
  waitStartUpToLast,
} from './store/client-queries.js';
import { liveOutboxMids, type MidSelection } from './store/live-queries.js';
import type { ConflictEntry, RejectionEntry } from './store/schema.js';

/** Options of the awaiting APIs. */
export interface WaitOptions {
  /** Reject with `SynclineError{ code: 'timeout' }` after this many ms (default: wait forever). */
  readonly timeoutMs?: number;
}

/** What `whenSynced` resolves with: the writes it waited for are all answered by the server. */
export interface SyncedReport {
  /** Every mutation of this device up to this mid is answered (0: none was ever queued). */
  readonly upToMid: number;
  /** Mutations that were waiting at the call and have been answered since. */
  readonly answered: number;
  /** Those of them the server refused (rolled back here; also in `rejections$`). */
  readonly rejected: readonly RejectionEntry[];
  /** Manual conflicts they ran into (now in the conflict inbox, `conflicts$`), as it shows them. */
  readonly conflicts: readonly AppConflictEntry[];
}

/** How the server answered one write (see `whenAcknowledged`). */
export type WriteOutcome =
  | { readonly status: 'applied' }
  | { readonly status: 'rejected'; readonly rejection: RejectionEntry }
  | { readonly status: 'conflict'; readonly conflict: AppConflictEntry };

/** What the awaiting functions need of the client. */
export interface AwaitContext {
  readonly db: Dexie;
  /** Emits (or completes) when the client closes. */
  readonly closed$: Observable<void>;
}

/**
 * The first value of `source$` that satisfies `pred`, or a `SynclineError`: `timeout` after
 * `timeoutMs`, `closed` when the client closes first.
 */
export async function waitFor<T>(
  ctx: Pick<AwaitContext, 'closed$'>,
  source$: Observable<T>,
  pred: (v: T) => boolean,
  what: string,
  opts: WaitOptions = {},
): Promise<T> {
  return withTimeout(
    firstValueFrom(source$.pipe(filter(pred), takeUntil(ctx.closed$))).catch((err: unknown) => {
      throw err instanceof SynclineError
        ? err
        : clientError('closed', `the client closed while waiting for ${what}`, { cause: err });
    }),
    what,
    opts,
  );
}

/** `promise`, or a `timeout` SynclineError after `opts.timeoutMs`. */
export async function withTimeout<T>(promise: Promise<T>, what: string, opts: WaitOptions = {}): Promise<T> {
  const ms = opts.timeoutMs;
  if (ms === undefined) return promise;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(clientError('timeout', `timed out after ${ms} ms waiting for ${what}`)),
      ms,
    );
  });
  try {
    return await Promise.race([promise, late]);
  } finally {
    clearTimeout(timer);
  }
}

/** The client's lifetime as its waits see it: every wait ends with `closed` once it closes. */
export class ClientLifetime implements AwaitContext {
  /** Emits, then completes, when the client closes (late subscribers still hear of it). */
  readonly closed$ = new ReplaySubject<void>(1);
  // One promise for every wait: a subscription per wait would live as long as the client.
  readonly #whenClosed = new Promise<void>((resolve) => this.closed$.subscribe({ complete: resolve }));

  constructor(readonly db: Dexie) {}

  /** `p` bounded by `opts.timeoutMs` and by the client closing. */
  bound<R>(p: Promise<R>, what: string, opts: WaitOptions): Promise<R> {
    const closed = this.#whenClosed.then(() => {
      throw clientError('closed', `the client closed while waiting for ${what}`);
    });
    return withTimeout(Promise.race([p, closed]), what, opts);
  }

  close(): void {
    this.closed$.next();
    this.closed$.complete();
  }
}

/** The highest mid assigned on this device so far (any tab), 0 if none. */
export function deviceLastMid(db: Dexie): Promise<number> {
  return lastAssignedMid(db);
}

/**
 * Resolves once the outbox entries `pending` selects are all gone (the server answered them).
 * Unbounded in time: callers bound the whole wait (see `SyncClient`'s `timeoutMs`).
 */
function answered(ctx: AwaitContext, which: MidSelection, what: string): Promise<unknown> {
  return waitFor(ctx, liveOutboxMids(ctx.db, which), (keys) => keys.length === 0, what);
}

/** A conflict is news when it is new or its server side moved since `before` was taken. */
function newsOf(before: readonly ConflictEntry[], after: readonly ConflictEntry[]): ConflictEntry[] {
  const seen = new Map(before.map((c) => [c.mid, c.theirs.version]));
  return after.filter((c) => seen.get(c.mid) !== c.theirs.version);
}

/**
 * Waits until the server answered every mutation queued on this device (in any tab) before the
 * call, and reports which of them were rejected or ran into manual conflicts.
 */
export async function whenSynced(ctx: AwaitContext): Promise<SyncedReport> {
  const { db } = ctx;
  const { last: upTo, waiting, conflicts: before } = await waitStartUpToLast(db);
  if (waiting.length > 0) await answered(ctx, { upTo }, `mutations up to mid ${upTo} to be answered`);
  const mine = waiting.filter((e) => e.discarded !== true);
  if (mine.length === 0) return { upToMid: upTo, answered: waiting.length, rejected: [], conflicts: [] };
  const mids = new Set(mine.map((e) => e.mid));
  const records = new Set(mine.map((e) => `${e.table}\u0000${e.key}`));
  const [rejections, conflicts] = await Promise.all([rejectionsByMids(db, [...mids]), allConflicts(db)]);
  return {
    upToMid: upTo,
    answered: waiting.length,
    rejected: rejections.filter((r): r is RejectionEntry => r !== undefined),
    // Several conflicting edits of one record share one conflict entry (the first one's mid).
    conflicts: newsOf(before, conflicts)
      .filter((c) => records.has(`${c.table}\u0000${c.id}`))
      .map(decodeConflict),
  };
}

/**
 * Waits until the server answered mutation `mid` of this device, and tells how: applied (or
 * merged, or a duplicate of one applied before), rejected, or a manual conflict.
 */
export async function whenAcknowledged(ctx: AwaitContext, mid: number): Promise<WriteOutcome> {
  const { db } = ctx;
  if (!Number.isSafeInteger(mid) || mid < 1)
    throw clientError('unknown_mid', `mid must be a positive integer, got ${String(mid)}`);
  const { last, waiting: entry, conflicts: before } = await waitStartAt(db, mid);
  if (mid > last) throw clientError('unknown_mid', `mid ${mid} was never assigned here (last is ${last})`);
  if (entry) await answered(ctx, { only: mid }, `mid ${mid} to be answered`);
  const rejection = await rejectionByMid(db, mid);
  if (rejection) return { status: 'rejected', rejection };
  const conflicts = await allConflicts(db);
  const conflict =
    conflicts.find((c) => c.mid === mid) ??
    (entry
      ? newsOf(before, conflicts).find((c) => c.table === entry.table && c.id === entry.key)
      : undefined);
  return conflict ? { status: 'conflict', conflict: decodeConflict(conflict) } : { status: 'applied' };
}
