/**
 * The pull of one scope to its head, page by page. The next page is requested before the
 * current one is written, so the network and IndexedDB work overlap instead of taking turns: a
 * first sync costs about max(transfer, write), not their sum. (A page prefetched from a cursor
 * that live changes have since overtaken only repeats versions, which settling skips.)
 */
import type { PullRequest, PullResponse, ScopeId } from '@syncline/protocol';
import { withScope } from '../sync-metrics.js';
import type { EngineContext } from './engine-context.js';
import type { LiveChanges } from './live-changes.js';
import { includedFor } from './live-changes.js';
import type { PullProgress } from './engine-types.js';
import { answered, request } from './transport.js';

type Page = PullResponse & { ok: true };

/**
 * Whether a page begins the scope's copy anew (nothing stored yet, or the server reset it): the
 * copy then carries this page's horizon, which the server's reset check needs.
 */
export function beginsCopy(from: number, page: Pick<Page, 'reset'>): boolean {
  return from === 0 || page.reset;
}

/** The scope's progress once `page` is written, for a pull that began at cursor `began`. */
export function progressAfter(
  began: number,
  page: { readonly reset: boolean; readonly upTo: number; readonly head: number; readonly hasMore: boolean },
): PullProgress {
  return {
    from: page.reset ? 0 : Math.min(began, page.upTo),
    cursor: page.upTo,
    head: Math.max(page.head, page.upTo),
    done: !page.hasMore,
  };
}

/**
 * Pulls `scope` to its head on the current socket. A failed request throws (`RequestFailed`);
 * a scope unsubscribed meanwhile stops the pull and is never written again.
 */
export async function pullScope(context: EngineContext, live: LiveChanges, scope: ScopeId): Promise<void> {
  const { options } = context;
  const socket = context.socket();
  if (!socket) return;
  const ask = (after: number, horizon: number) =>
    answered(
      request(
        socket,
        'pull',
        { scope, after, horizon, limit: options.pullPageSize } as PullRequest,
        options.requestTimeoutMs,
      ),
    );
  const row = await options.store.scopeRow(scope);
  const began = row.cursor;
  let from = row.cursor;
  let horizon = row.horizon;
  let next: Promise<Page> = ask(row.cursor, row.horizon);
  for (;;) {
    const res = await next;
    const starts = beginsCopy(from, res);
    if (starts) horizon = res.horizon;
    // Handled (awaited) below; a failure of the prefetch is reported when its turn comes.
    if (res.hasMore) {
      next = ask(res.upTo, horizon);
      next.catch(() => undefined);
    }
    const dropped = await context.writes.run(async () => {
      // Unsubscribed meanwhile: its rows are being evicted, never written again.
      if (!context.subscribed(scope)) return true;
      await options.store.applyChanges(
        scope,
        res.changes,
        (c) => includedFor(c, options.clientId, res.lastMid),
        {
          to: res.upTo,
          ...(starts ? { horizon: res.horizon } : {}),
          reset: res.reset,
          complete: !res.hasMore,
        },
      );
      live.noteIncluded(res.lastMid);
      return false;
    });
    if (dropped) return;
    context.metric((m) => withScope(m, scope, { cursor: res.upTo, head: res.head }));
    context.set({ progress: { ...context.state().progress, [scope]: progressAfter(began, res) } });
    options.onActivity();
    if (!res.hasMore) return;
    from = res.upTo;
    // Let the app's live queries read between pages. A Dexie live query whose read lands
    // behind the next page's write is invalidated by it and re-run, never emitted: with
    // pages back to back, a list stayed empty until the whole first sync was done.
    await new Promise<void>((resolve) => setTimeout(resolve, 0));
  }
}
