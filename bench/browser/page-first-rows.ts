/**
 * Page side of B6: resolves with the time (ms after `start`) at which a live query first sees at
 * least `count` rows — "queryable" meaning what an app's list would show. The query stops then.
 */
import { liveQuery, type Table } from 'dexie';

export const FIRST_ROWS = 500;

export function firstRowsAt(table: Table, start: number, count = FIRST_ROWS): Promise<number> {
  return new Promise((resolve, reject) => {
    const sub = liveQuery(() => table.limit(count).primaryKeys()).subscribe({
      next: (keys) => {
        if (keys.length < count) return;
        resolve(performance.now() - start);
        // Unsubscribing inside `next` is allowed; the deferral keeps it out of Dexie's emit loop.
        setTimeout(() => sub.unsubscribe(), 0);
      },
      error: reject,
    });
  });
}
