import type { Observable, Subscription } from 'rxjs';

/** What an {@link ObservableStore} holds: the latest value or error, replaced on every emission. */
export interface ObservableSnapshot<T> {
  /** The latest emitted value; `undefined` until the first emission. */
  readonly value: T | undefined;
  /** True once the observable has emitted at least once. */
  readonly hasValue: boolean;
  /** Set when the observable errored (the last value, if any, is kept). */
  readonly error: unknown;
  readonly hasError: boolean;
}

/** An RxJS observable as an external store for React's `useSyncExternalStore`. */
export interface ObservableStore<T> {
  /** Stable; adds a listener, subscribing to the observable on the first one. */
  readonly subscribe: (onChange: () => void) => () => void;
  /** Stable; the cached latest snapshot (the same object until something new arrives). */
  readonly getSnapshot: () => ObservableSnapshot<T>;
}

const EMPTY: ObservableSnapshot<never> = Object.freeze({
  value: undefined,
  hasValue: false,
  error: undefined,
  hasError: false,
});

/**
 * Turns an observable into a store with stable `subscribe`/`getSnapshot`. Creating the store
 * subscribes to nothing: the observable is subscribed once, when the first listener arrives, and
 * unsubscribed when the last one leaves (a component unmounting). The latest value is cached
 * and survives a resubscription (React StrictMode's simulated unmount), so nothing flickers.
 * Once the observable completes or errors, its last snapshot is final.
 */
export function createObservableStore<T>(source: Observable<T>): ObservableStore<T> {
  let snapshot: ObservableSnapshot<T> = EMPTY;
  let subscription: Subscription | undefined;
  // Completed or errored: the snapshot is final and the source is not subscribed again.
  let finished = false;
  const listeners = new Set<() => void>();

  const publish = (next: ObservableSnapshot<T>): void => {
    snapshot = next;
    for (const listener of [...listeners]) listener();
  };

  const subscribe = (onChange: () => void): (() => void) => {
    // Added first, so a synchronous first emission (a BehaviorSubject) reaches it too.
    listeners.add(onChange);
    if (subscription === undefined && !finished) {
      subscription = source.subscribe({
        next: (value) => publish({ value, hasValue: true, error: undefined, hasError: false }),
        error: (error: unknown) => {
          finished = true;
          publish({ ...snapshot, error, hasError: true });
        },
        complete: () => {
          finished = true;
        },
      });
    }
    return () => {
      listeners.delete(onChange);
      if (listeners.size === 0) {
        subscription?.unsubscribe();
        subscription = undefined;
      }
    };
  };

  return { subscribe, getSnapshot: () => snapshot };
}
