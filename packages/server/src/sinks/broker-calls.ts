import type { TimerHandle, Timers } from '../ops/timers.js';
import type { SinkPublisher } from './sink-config.js';

/**
 * `work`, cut short when `signal` aborts: a connection left half-open by the network answers
 * neither a confirm nor a close, and shutdown must not wait for it (what was published without a
 * confirm is published again from the stored cursor).
 */
export function unlessAborted<T>(signal: AbortSignal, work: Promise<T>): Promise<T> {
  if (signal.aborted) return Promise.reject(new Error('sink stopped'));
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(new Error('sink stopped'));
    signal.addEventListener('abort', onAbort, { once: true });
    // The listener goes with the call: a sink makes one call per batch for as long as it runs.
    work.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

/** Closes a broker connection, giving up after `ms` (a half-open link never answers the close). */
export async function closeWithin(publisher: SinkPublisher, timers: Timers, ms: number): Promise<void> {
  const timer: { handle?: TimerHandle } = {};
  await Promise.race([
    publisher.close().catch(() => undefined),
    new Promise<void>((resolve) => (timer.handle = timers.setTimeout(resolve, ms))),
  ]);
  if (timer.handle !== undefined) timers.clearTimeout(timer.handle);
}
