import type { AppHistoryEntry as HistoryEntry } from '../app-values.js';

/** The state of one record's history as `useHistory` shows it. */
export interface HistorySnapshot {
  /** Newest first; `undefined` until the first fetch succeeds (kept while refreshing). */
  readonly entries: readonly HistoryEntry[] | undefined;
  /** A fetch is in flight. */
  readonly loading: boolean;
  /** Why the latest fetch failed; cleared by the next success. */
  readonly error: Error | undefined;
}

/** A fetched record history as an external store for `useSyncExternalStore`. */
export interface HistoryStore {
  readonly subscribe: (onChange: () => void) => () => void;
  readonly getSnapshot: () => HistorySnapshot;
  /** Fetches again; the latest fetch wins, answers to earlier ones are ignored. */
  readonly refresh: () => void;
}

const IDLE: HistorySnapshot = Object.freeze({ entries: undefined, loading: false, error: undefined });

/** A store for "no record selected": empty, never loading. */
export const idleHistoryStore: HistoryStore = {
  subscribe: () => () => undefined,
  getSnapshot: () => IDLE,
  refresh: () => undefined,
};

/**
 * A store that fetches with `load` when its first listener subscribes (not when created, and
 * not per render) and again on `refresh()`. Only the answer to the latest fetch is applied.
 */
export function createHistoryStore(load: () => Promise<readonly HistoryEntry[]>): HistoryStore {
  let snapshot: HistorySnapshot = { entries: undefined, loading: true, error: undefined };
  let latest = 0;
  const listeners = new Set<() => void>();

  const publish = (next: HistorySnapshot): void => {
    snapshot = next;
    for (const listener of [...listeners]) listener();
  };

  const fetchNow = (): void => {
    const seq = ++latest;
    if (!snapshot.loading) publish({ ...snapshot, loading: true });
    load().then(
      (entries) => {
        if (seq === latest) publish({ entries, loading: false, error: undefined });
      },
      (e: unknown) => {
        if (seq === latest)
          publish({ ...snapshot, loading: false, error: e instanceof Error ? e : new Error(String(e)) });
      },
    );
  };

  return {
    subscribe(onChange) {
      listeners.add(onChange);
      if (latest === 0) fetchNow();
      return () => {
        listeners.delete(onChange);
      };
    },
    getSnapshot: () => snapshot,
    refresh: fetchNow,
  };
}
