// Syncline's own live reads, without holding IndexedDB locks across tasks.
//
// Why not Dexie's `liveQuery`: IndexedDB commits a transaction only after the page has handled
// its last result. A tab frozen (Page Lifecycle) or suspended by the OS in between keeps the
// transaction, and its locks, until it wakes; every other tab's writes to those stores wait
// (Chromium aborts such a transaction after about 60 s). Every write re-runs the observers of
// the outbox in every tab, so a tab frozen during a burst of writes almost always held one:
// a frozen leader stopped every tab's writes, not only sync. A read here issues all its requests
// in one task and commits at once (`IDBTransaction.commit()`): the browser finishes it without
// the page, so a frozen page holds nothing.
import { Dexie } from 'dexie';
import { Observable } from 'rxjs';

/** Issues a read's requests on `tx` (synchronously) and returns what collects their results. */
export type ReadIssuer<R> = (tx: IDBTransaction) => () => R;

/**
 * One read-only transaction over `stores`, committed as soon as `issue` created its requests.
 * Resolves with the collected result once the transaction completed; rejects when it aborted.
 * Opens the database if it is not open yet (as a Dexie query would); rejects with Dexie's
 * `DatabaseClosedError` once it was closed.
 */
export async function committedRead<R>(
  db: Dexie,
  stores: readonly string[],
  issue: ReadIssuer<R>,
): Promise<R> {
  if (!db.isOpen()) {
    if (db.hasBeenClosed()) throw new Dexie.DatabaseClosedError('the database was closed');
    await db.open();
  }
  const tx = db.backendDB().transaction([...stores], 'readonly');
  const collect = issue(tx);
  // Older engines (and fake-indexeddb before v4) lack commit(): they auto-commit as before.
  if (typeof tx.commit === 'function') tx.commit();
  return new Promise<R>((resolve, reject) => {
    tx.oncomplete = () => {
      try {
        resolve(collect());
      } catch (err) {
        reject(err instanceof Error ? err : new Error(String(err)));
      }
    };
    tx.onabort = () => reject(tx.error ?? new Error('read transaction aborted'));
  });
}

/**
 * `read()` now, and again after every committed change (in this tab or another one, as Dexie
 * reports them: `storagemutated`) to one of `stores`. Runs never overlap: changes during a run
 * cause exactly one more run. Emits every result (callers drop repeats); a read error ends the
 * stream with it, and the stream completes once the database was closed.
 */
export function liveRead<R>(db: Dexie, stores: readonly string[], read: () => Promise<R>): Observable<R> {
  return new Observable<R>((subscriber) => {
    const prefixes = stores.map((s) => `idb://${db.name}/${s}/`);
    let running = false;
    let again = false;
    let closed = false;
    const run = async (): Promise<void> => {
      if (running) {
        again = true;
        return;
      }
      running = true;
      try {
        do {
          again = false;
          const result = await read();
          if (!closed) subscriber.next(result);
        } while (again && !closed);
      } catch (err) {
        // A closed database changes no more: the view ends (a crash-like close, or `close()`
        // racing a change another instance of the same database made).
        if (closed) return;
        if (db.hasBeenClosed()) subscriber.complete();
        else subscriber.error(err);
      } finally {
        running = false;
      }
    };
    const onMutated = (parts: Readonly<Record<string, unknown>>) => {
      if (Object.keys(parts).some((key) => prefixes.some((p) => key.startsWith(p)))) void run();
    };
    Dexie.on.storagemutated.subscribe(onMutated);
    void run();
    return () => {
      closed = true;
      Dexie.on.storagemutated.unsubscribe(onMutated);
    };
  });
}
