import { useMemo, useSyncExternalStore, type DependencyList } from 'react';
import type { Observable } from 'rxjs';
import { createObservableStore } from './observable-store.js';

/**
 * The latest value of an observable; the component re-renders on every emission. Returns
 * `initial` (default `undefined`) until the first emission. `factory` runs again only when
 * `deps` change: the old observable is then unsubscribed and the new one subscribed, and the
 * result is `initial` again until the new one emits. Nothing is subscribed per render, and
 * everything is unsubscribed on unmount. An error from the observable is thrown during render,
 * for an error boundary to catch.
 */
export function useObservable<T>(factory: () => Observable<T>, deps: DependencyList): T | undefined;
export function useObservable<T, I>(factory: () => Observable<T>, deps: DependencyList, initial: I): T | I;
export function useObservable<T, I>(
  factory: () => Observable<T>,
  deps: DependencyList,
  initial?: I,
): T | I | undefined {
  // The factory is a fresh closure every render; `deps` decide when it is called again.
  const store = useMemo(() => createObservableStore(factory()), deps);
  const snapshot = useSyncExternalStore(store.subscribe, store.getSnapshot, store.getSnapshot);
  if (snapshot.hasError) throw snapshot.error;
  return snapshot.hasValue ? snapshot.value : initial;
}
