/**
 * The one serial queue every local write of the engine goes through: pulled pages
 * (`pull-scope.ts`), live changes (`live-changes.ts`) and push results and quarantines
 * (`push-pipeline.ts`). Each write starts after the previous one finished, so they never
 * interleave: a live change cannot land between a push's results and the held messages retried
 * after them, nor in the middle of a pulled page.
 *
 * A write that must run as part of another (the held messages retried after push results) is
 * called directly inside it, never queued again, or it would wait for itself.
 */
export class WriteQueue {
  #tail: Promise<unknown> = Promise.resolve();

  /**
   * Runs `write` once every write queued before it has finished (failed or not). Its result or
   * failure is the caller's; the queue goes on either way.
   */
  run<R>(write: () => Promise<R>): Promise<R> {
    const next = this.#tail.then(write);
    this.#tail = next.catch(() => undefined);
    return next;
  }

  /** Settles (never rejects) once every write queued so far has finished. */
  idle(): Promise<unknown> {
    return this.#tail;
  }
}
