import type { DBCore, Dexie } from 'dexie';
import { syncError, type SyncError } from '@syncline/protocol';
import { backoffDelay, type BackoffPolicy } from '../engine/backoff.js';
import { adoptExisting, type AdoptionProgress } from './adopt-existing.js';

export interface AdoptionRunOptions {
  readonly db: Dexie;
  /** The outbox middleware's DBCore layer: adopted rows are queued through it. */
  readonly core: () => DBCore;
  readonly tables: readonly string[];
  readonly backoff: BackoffPolicy;
  readonly random: () => number;
  /** False once this tab stops leading: the run ends after its current chunk. */
  readonly leading: () => boolean;
  readonly onProgress: (progress: AdoptionProgress | null) => void;
  /** A failed attempt (retried with backoff while still leading). */
  readonly onError: (error: SyncError) => void;
}

/** A leader's adoption run (see `adopt-existing.ts`), retried with backoff until it completes. */
export interface AdoptionRun {
  /** True when every table is adopted; false when the run ended because leadership did. */
  readonly done: Promise<boolean>;
  /** Ends a backoff wait at once (on leaving, so `done` settles without waiting it out). */
  wake(): void;
}

/**
 * Uploads the rows that predate syncing before the engine starts (a pull first would overwrite a
 * local row the server also has before it is queued, instead of letting the collection's
 * strategy decide), retrying a failed attempt with backoff for as long as this tab leads.
 */
export function startAdoption(options: AdoptionRunOptions): AdoptionRun {
  let wake = (): void => {};
  const done = (async () => {
    for (let attempt = 0; options.leading(); attempt++) {
      try {
        const report = await adoptExisting({
          db: options.db,
          core: options.core,
          tables: options.tables,
          onProgress: options.onProgress,
          cancelled: () => !options.leading(),
        });
        options.onProgress(null);
        return report.complete && options.leading();
      } catch (err) {
        options.onProgress(null);
        if (!options.leading() || !options.db.isOpen()) return false;
        const message = err instanceof Error ? err.message : String(err);
        options.onError(syncError('internal', `adopting existing rows failed: ${message}`));
        const delay = backoffDelay(attempt, options.backoff, options.random);
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, delay);
          wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        wake = () => {};
      }
    }
    return false;
  })();
  return { done, wake: () => wake() };
}
