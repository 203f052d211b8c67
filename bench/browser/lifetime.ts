/**
 * The lifetime of one browser benchmark: everything it starts (page host, server processes,
 * Chromium) is registered here and stopped in reverse order when the benchmark ends, fails or
 * runs past its hard deadline. Something that finishes starting after the end is stopped at once.
 */
import { withTimeout } from './deadline.js';

export class Lifetime {
  readonly #stops: (() => Promise<void>)[] = [];
  #ended = false;

  /** Registers `resource` with its `stop`; returns it, or stops it and throws if already ended. */
  async own<T>(resource: T, stop: (resource: T) => Promise<void>): Promise<T> {
    if (this.#ended) {
      await stop(resource);
      throw new Error('the benchmark already ended');
    }
    this.#stops.push(() => stop(resource));
    return resource;
  }

  async end(): Promise<void> {
    this.#ended = true;
    for (const stop of this.#stops.splice(0).reverse()) {
      await stop().catch((error: unknown) => console.warn(`bench/browser: cleanup failed: ${String(error)}`));
    }
  }
}

/** Runs `body` with a hard deadline; whatever it started is stopped in any case. */
export async function runBench<T>(what: string, deadlineMs: number, body: (life: Lifetime) => Promise<T>) {
  const life = new Lifetime();
  try {
    return await withTimeout(body(life), deadlineMs, what);
  } finally {
    await life.end();
  }
}
