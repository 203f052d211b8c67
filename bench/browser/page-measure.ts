/**
 * Page side of B1: times sequential writes on a write path until its live observer shows them.
 * Each sample runs from the write call to the observer's emission of the new revision; an
 * emission with a wrong value fails the run.
 */
import { benchCard, cardDiff, type BenchCard } from './records.js';

/** A write path and its live observer. */
export interface Target {
  write(card: BenchCard): Promise<unknown>;
  /** Subscribes to record `id`; `onValue` gets every emitted value. Returns the unsubscribe. */
  watch(id: string, onValue: (value: unknown) => void): () => void;
  /** Waits for background work the last write started (Syncline: push and ack). */
  settle(): Promise<void>;
}

const EMIT_TIMEOUT_MS = 5_000;

/** Times `count` writes of record `index` on `target`, revisions after `rev.value`. */
export async function measureWrites(
  target: Target,
  index: number,
  rev: { value: number },
  count: number,
): Promise<number[]> {
  const samples: number[] = [];
  let want: BenchCard | undefined;
  let arrived: ((at: number) => void) | undefined;
  let failure: Error | undefined;
  const stop = target.watch(benchCard(index).id, (value) => {
    const at = performance.now();
    if (want === undefined || value === undefined || value === null) return;
    const got = (value as { rev?: unknown }).rev;
    if (typeof got === 'number' && got < want.rev) return; // an earlier revision, still settling
    const diff = cardDiff(value, want);
    if (diff !== undefined) failure ??= new Error(`observer saw a wrong value (${diff})`);
    arrived?.(at);
    arrived = undefined;
  });
  try {
    for (let i = 0; i < count; i++) {
      const card = benchCard(index, ++rev.value);
      let timer: ReturnType<typeof setTimeout> | undefined;
      const seen = new Promise<number>((resolve, reject) => {
        arrived = resolve;
        timer = setTimeout(
          () => reject(new Error(`no emission within ${EMIT_TIMEOUT_MS} ms`)),
          EMIT_TIMEOUT_MS,
        );
      });
      want = card;
      const start = performance.now();
      const written = target.write(card);
      const at = await seen.finally(() => clearTimeout(timer));
      await written;
      if (failure !== undefined) throw failure;
      samples.push(at - start);
      await target.settle();
    }
  } finally {
    stop();
  }
  return samples;
}
