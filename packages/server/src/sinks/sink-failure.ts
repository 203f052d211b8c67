/** Why a round of a sink failed: the `stage` label of `sink_errors_total`. */
export type SinkStage = 'connect' | 'publish' | 'storage' | 'transform';

/** A failed round of a sink, with the stage that failed; the runner backs off and starts again. */
export class SinkFailure extends Error {
  constructor(
    readonly stage: SinkStage,
    cause: unknown,
  ) {
    super(`${stage}: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
    this.name = 'SinkFailure';
  }
}

/** `work`, whose rejection becomes a `SinkFailure` of `stage` (one already of a stage keeps it). */
export const failsAt = <T>(stage: SinkStage, work: Promise<T>): Promise<T> =>
  work.catch((err: unknown) =>
    Promise.reject(err instanceof SinkFailure ? err : new SinkFailure(stage, err)),
  );
