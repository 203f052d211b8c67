/**
 * What the push pipeline knows of the outbox without reading it: the entries this tab's own
 * writes queued, handed over by the outbox middleware once their transaction committed. A push
 * whose batch starts exactly where they start is cut from them instead of a read of the outbox
 * (one IndexedDB transaction less between a local write and its push). Pure decisions; the
 * pipeline holds the state.
 *
 * Why this is the outbox's head and not a guess: mids come from one counter in the transaction
 * that queues them, so they are dense across tabs; a run of consecutive mids that starts right
 * after the last mid sent (or settled) is exactly what a read would return first. Entries leave
 * the outbox only through this engine's settles and through a reset, which stops the engine
 * (a new engine starts with nothing known). Another tab that takes over is fenced by the lease
 * before every push, whichever way the batch was found.
 */
import type { OutboxEntry } from '../store/schema.js';

/** Entries with consecutive mids, oldest first (empty: nothing known). */
export type QueuedRun = readonly OutboxEntry[];

/**
 * At most this many entries are kept: a burst larger than that (an import, a long offline
 * spell) is read from the outbox in pages as before.
 */
export const MAX_QUEUED_RUN = 2_000;

/**
 * The run once `entries` (one committed transaction's, in mid order) are known: appended when
 * they continue it, otherwise they start a new run (what came before is read from the outbox).
 * Entries whose mids are not consecutive are not kept at all.
 */
export function withQueued(run: QueuedRun, entries: readonly OutboxEntry[]): QueuedRun {
  if (entries.length === 0) return run;
  if (!consecutive(entries)) return [];
  const last = run[run.length - 1];
  const next = last !== undefined && entries[0]!.mid === last.mid + 1 ? [...run, ...entries] : [...entries];
  return next.length > MAX_QUEUED_RUN ? [] : next;
}

/**
 * The outbox head after mid `after` taken from the run, or `undefined` when the run does not
 * start right there (then the outbox is read). `after` must be the last mid sent on this
 * connection or, with nothing in flight, the last mid this engine settled.
 */
export function headFromRun(run: QueuedRun, after: number | undefined): OutboxEntry[] | undefined {
  if (after === undefined) return undefined;
  const start = run.findIndex((e) => e.mid > after);
  if (start < 0 || run[start]!.mid !== after + 1) return undefined;
  return run.slice(start);
}

/** The run without the entries up to mid `upTo` (sent or settled). */
export function trimRun(run: QueuedRun, upTo: number): QueuedRun {
  const start = run.findIndex((e) => e.mid > upTo);
  return start < 0 ? [] : start === 0 ? run : run.slice(start);
}

function consecutive(entries: readonly OutboxEntry[]): boolean {
  for (let i = 1; i < entries.length; i++) if (entries[i]!.mid !== entries[i - 1]!.mid + 1) return false;
  return true;
}
