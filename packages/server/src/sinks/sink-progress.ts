import type { ServerMetrics } from '../ops/metrics.js';

/**
 * What a sink runner tells about its progress: its lag (the `sink_lag_changes` gauge) and the
 * end of each pass over its backlog, which `SinkRunner.settled` waits for. A pass ends when the
 * runner found nothing left to publish, when it failed, or when another node holds the sink.
 */
export class SinkProgress {
  #lag = 0;
  #waiters: (() => void)[] = [];

  constructor(
    private readonly metrics: ServerMetrics,
    private readonly label: { readonly sink: string },
  ) {}

  /**
   * Committed changes the sink has yet to publish: exact at each look at the backlog
   * (`setLag`), counted up by this node's commits in between (`committed`); another node's
   * commits show at the next look.
   */
  get lag(): number {
    return this.#lag;
  }

  setLag(lag: number): void {
    this.#lag = Math.max(0, lag);
    this.metrics.sinkLag.set(this.label, this.#lag);
  }

  committed(changes: number): void {
    this.setLag(this.#lag + changes);
  }

  published(changes: number): void {
    this.setLag(this.#lag - changes);
  }

  /** Resolves at the end of the next pass (or at `passed()` after the runner stopped). */
  nextPass(): Promise<void> {
    return new Promise<void>((resolve) => this.#waiters.push(resolve));
  }

  passed(): void {
    for (const resolve of this.#waiters.splice(0)) resolve();
  }
}
