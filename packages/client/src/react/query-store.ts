import type { QueryResult, QueryResultRow } from '../server-query.js';

/** The state of a read-through query as `useQuery` shows it. */
export interface QuerySnapshot {
  /** Every row of the pages fetched so far; `undefined` until the first page arrives. */
  readonly rows: readonly QueryResultRow[] | undefined;
  /** A page is being fetched (the first one, a refresh, or the next one). */
  readonly loading: boolean;
  /** Why the latest fetch failed; cleared by the next success. Rows already shown are kept. */
  readonly error: Error | undefined;
  /** True when an external source failed or timed out on some fetched page. */
  readonly partial: boolean;
  /** The source errors of the fetched pages. */
  readonly sourceErrors: QueryResult['errors'];
  /** The server has more rows: `fetchNextPage()` gets them. */
  readonly hasNextPage: boolean;
}

/** A paged query as an external store for `useSyncExternalStore`. */
export interface QueryStore {
  readonly subscribe: (onChange: () => void) => () => void;
  readonly getSnapshot: () => QuerySnapshot;
  /** Fetches the page after the last one and appends its rows; ignored while a fetch runs or on the last page. */
  readonly fetchNextPage: () => void;
  /** Starts over from the first page; answers to earlier fetches are then ignored. */
  readonly refresh: () => void;
}

const IDLE: QuerySnapshot = Object.freeze({
  rows: undefined,
  loading: false,
  error: undefined,
  partial: false,
  sourceErrors: [],
  hasNextPage: false,
});

/** A store for "no query": empty, never loading. */
export const idleQueryStore: QueryStore = {
  subscribe: () => () => undefined,
  getSnapshot: () => IDLE,
  fetchNextPage: () => undefined,
  refresh: () => undefined,
};

/**
 * A store that fetches the first page with `load` when its first listener subscribes, the next
 * one on `fetchNextPage()`, and starts over on `refresh()`. Only answers of the current run
 * (since the last refresh) are applied.
 */
export function createQueryStore(load: (after: string | undefined) => Promise<QueryResult>): QueryStore {
  let snapshot: QuerySnapshot = { ...IDLE, loading: true };
  let run = 0;
  let next: string | null = null;
  let inFlight = false;
  const listeners = new Set<() => void>();

  const publish = (s: QuerySnapshot): void => {
    snapshot = s;
    for (const listener of [...listeners]) listener();
  };

  const fetchPage = (after: string | undefined): void => {
    const mine = run;
    inFlight = true;
    if (!snapshot.loading) publish({ ...snapshot, loading: true });
    load(after).then(
      (page) => {
        if (mine !== run) return;
        inFlight = false;
        next = page.next;
        const first = after === undefined;
        publish({
          rows: first ? page.rows : [...(snapshot.rows ?? []), ...page.rows],
          loading: false,
          error: undefined,
          partial: (!first && snapshot.partial) || page.partial,
          sourceErrors: first ? page.errors : [...snapshot.sourceErrors, ...page.errors],
          hasNextPage: page.next !== null,
        });
      },
      (e: unknown) => {
        if (mine !== run) return;
        inFlight = false;
        publish({ ...snapshot, loading: false, error: e instanceof Error ? e : new Error(String(e)) });
      },
    );
  };

  const refresh = (): void => {
    run++;
    next = null;
    fetchPage(undefined);
  };

  return {
    subscribe(onChange) {
      listeners.add(onChange);
      if (run === 0) refresh();
      return () => {
        listeners.delete(onChange);
      };
    },
    getSnapshot: () => snapshot,
    fetchNextPage: () => {
      if (inFlight || next === null) return;
      fetchPage(next);
    },
    refresh,
  };
}
