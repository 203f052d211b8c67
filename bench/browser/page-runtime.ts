/**
 * Page side of `callPage`: publishes a page's bench API once its setup has finished, or the
 * setup error, which `openPage` reports instead of waiting for a timeout.
 */
export function exposeBench(setup: () => Promise<object>): void {
  const g = globalThis as unknown as { __bench?: object; __benchState?: string };
  setup().then(
    (api) => {
      g.__bench = api;
      g.__benchState = 'ready';
    },
    (error: unknown) => {
      g.__benchState = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    },
  );
}

/** `performance.now()` on the clock every page of one browser shares (for cross-page latency). */
export function sharedNow(): number {
  return performance.timeOrigin + performance.now();
}

/** Resolves after `ms`; rejects nothing. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
