/** Online status, injected so tests (and Node agents) decide what "online" means. */
export interface NetworkStatus {
  isOnline(): boolean;
  /** Calls `cb` whenever the status may have changed; returns an unsubscribe function. */
  subscribe(cb: () => void): () => void;
}

/** Page visibility: a tab coming back to the foreground reconnects at once instead of waiting. */
export interface Visibility {
  isVisible(): boolean;
  subscribe(cb: () => void): () => void;
}

const g = globalThis as {
  navigator?: { onLine?: boolean };
  addEventListener?: (t: string, cb: () => void) => void;
  removeEventListener?: (t: string, cb: () => void) => void;
  document?: {
    visibilityState?: string;
    addEventListener(t: string, cb: () => void): void;
    removeEventListener(t: string, cb: () => void): void;
  };
};

/** `navigator.onLine` with `online`/`offline` events in browsers; always online elsewhere. */
export const browserNetwork: NetworkStatus = {
  isOnline: () => g.navigator?.onLine ?? true,
  subscribe(cb) {
    g.addEventListener?.('online', cb);
    g.addEventListener?.('offline', cb);
    return () => {
      g.removeEventListener?.('online', cb);
      g.removeEventListener?.('offline', cb);
    };
  },
};

/** `document.visibilityState` in browsers; always visible elsewhere. */
export const browserVisibility: Visibility = {
  isVisible: () => (g.document?.visibilityState ?? 'visible') === 'visible',
  subscribe(cb) {
    g.document?.addEventListener('visibilitychange', cb);
    return () => g.document?.removeEventListener('visibilitychange', cb);
  },
};

/** A switchable network status for tests and for an app's own "work offline" toggle. */
export class ManualNetwork implements NetworkStatus {
  #online: boolean;
  readonly #subs = new Set<() => void>();
  constructor(online = true) {
    this.#online = online;
  }
  isOnline(): boolean {
    return this.#online;
  }
  set(online: boolean): void {
    this.#online = online;
    for (const cb of [...this.#subs]) cb();
  }
  subscribe(cb: () => void): () => void {
    this.#subs.add(cb);
    return () => this.#subs.delete(cb);
  }
}
