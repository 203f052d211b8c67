/**
 * Adoption: rows that were in an app table before it became synced (an app that adds
 * `synclineStores` to a database that already holds data, or a table added to `tables` later)
 * are uploaded once, as ordinary queued creates.
 *
 * Which rows: a row of a synced table that has no record meta (`_syncline_records`). Every row
 * Syncline ever wrote has one: the outbox middleware writes it with the first queued change of
 * a record, and every write of server state (applied changes, settled push results) writes it with
 * the record. So a row without meta was written before Syncline watched the table, and a row
 * with meta is never uploaded again (server rows included).
 *
 * How: the table is walked in primary-key order, in chunks. Each chunk is one IndexedDB
 * transaction that reads the next keys and their metas, re-puts the rows without meta through
 * the outbox middleware's own DBCore layer (so they become exactly what a local `put` of a new
 * record becomes: a `put` with base 0, a meta, the next mids; with the same key, value and
 * scope checks), and stores the position reached (`adopt:<table>` in `_syncline_meta`). The
 * meta check and the queuing share that transaction, so a row is queued once even if the app
 * (or another tab) writes it meanwhile, and a crash between chunks resumes at the stored
 * position. Writes go to the middleware's layer, below Dexie's hooks: the app's `creating` /
 * `updating` hooks do not run for rows that do not change.
 *
 * Rows the middleware refuses (an invalid id, a value it would not store, a scope function that
 * throws) are left as they are, local only, and counted as skipped; a chunk holding one is split
 * in halves until the refused rows stand alone, so one bad row does not hold back the others.
 *
 * A change the app makes to a row before the walk reaches it is that row's adoption: the outbox
 * middleware queues a change to a row without meta as a create of the new value (and a delete
 * of one as nothing), so the walk then finds its meta and leaves it alone.
 *
 * Keys: the record meta of a row is looked up as `[table, record id]` (`recordIdOf`), exactly
 * as the outbox middleware reads it; a change to how keys map to record ids must change both together.
 *
 * The position row also marks a table as done, so later starts skip it. Position rows of
 * tables no longer in `tables` are dropped, so a table that leaves and comes back is walked
 * again (rows written while it was not synced have no meta).
 */
import { Dexie } from 'dexie';
import type { DBCore, DBCoreKeyRange, DBCoreRangeType, DBCoreTransaction } from 'dexie';
import type { ErrorCode, SyncError } from '@syncline/protocol';
import { SynclineError } from '../errors.js';
import { SYNCLINE_TABLES } from './schema.js';
import { recordIdOf } from './synced-keys.js';

/** A meta id no record has (record ids are well-formed Unicode without NUL). */
const NO_RECORD_ID = '\u0000';

/** Adoption progress of the table being walked (`SyncStatus.adoption`). */
export interface AdoptionProgress {
  /** The table being adopted. */
  readonly table: string;
  /** Rows of that table examined so far in this run (adopted, already synced, or skipped). */
  readonly done: number;
  /** Rows of that table this run has to examine (those after the position a crash left). */
  readonly total: number;
  /** Rows left local only because the outbox middleware refused them (see `skippedRows`). */
  readonly skipped: number;
}

/** A row adoption left local only, and why. */
export interface SkippedRow {
  readonly table: string;
  readonly key: unknown;
  readonly error: SyncError;
}

export interface AdoptOptions {
  readonly db: Dexie;
  /** The outbox middleware's DBCore layer: puts through it are queued (see the module doc). */
  readonly core: () => DBCore;
  /** The synced tables, in the order they are adopted. */
  readonly tables: readonly string[];
  /** Rows per transaction (default `ADOPT_CHUNK`). */
  readonly chunkSize?: number;
  readonly onProgress?: (progress: AdoptionProgress) => void;
  /** Checked between chunks: true stops (the position is kept; the next run resumes there). */
  readonly cancelled?: () => boolean;
}

export interface AdoptionReport {
  /** Rows queued as creates in this run. */
  readonly queued: number;
  /** Rows left local only (the first 100). */
  readonly skippedRows: readonly SkippedRow[];
  readonly skipped: number;
  /** False when `cancelled` stopped it before every table was done. */
  readonly complete: boolean;
}

/**
 * Rows per chunk transaction. Each chunk is a handful of bulk requests; 500 rows keep one under
 * ~50 ms in fake-indexeddb (less in browsers), and the walk yields a macrotask between chunks so
 * the app's reads and live queries run in between.
 */
export const ADOPT_CHUNK = 500;

const MARK_PREFIX = 'adopt:';

/** The position row of one table in `_syncline_meta`. */
interface AdoptionMark {
  readonly key: string;
  /** Primary key of the last row examined; absent: start from the first row. */
  readonly after?: unknown;
  readonly done: boolean;
}

interface ChunkOut {
  readonly scanned: number;
  readonly queued: number;
  readonly last: unknown;
}

const RANGE = 2 as DBCoreRangeType;
const ANY = 3 as DBCoreRangeType;

/** Uploads rows of synced tables that predate syncing (see the module doc). Leader tab only. */
export async function adoptExisting(options: AdoptOptions): Promise<AdoptionReport> {
  const { db } = options;
  const size = Math.max(1, options.chunkSize ?? ADOPT_CHUNK);
  const meta = db.table<AdoptionMark, string>(SYNCLINE_TABLES.meta);
  // Tables that stopped being synced: forget their position, so they are walked again if they
  // come back (rows written meanwhile have no meta).
  const marks = await meta.where('key').startsWith(MARK_PREFIX).toArray();
  const stale = marks
    .filter((m) => !options.tables.includes(m.key.slice(MARK_PREFIX.length)))
    .map((m) => m.key);
  if (stale.length > 0) await meta.bulkDelete(stale);
  const byTable = new Map(marks.map((m) => [m.key.slice(MARK_PREFIX.length), m]));

  let queued = 0;
  let skipped = 0;
  const skippedRows: SkippedRow[] = [];
  const skip = (table: string, key: unknown, err: SynclineError) => {
    skipped++;
    // The write checks refuse only with the protocol's codes.
    if (skippedRows.length < 100)
      skippedRows.push({ table, key, error: { ...err.error, code: err.code as ErrorCode } });
  };
  for (const table of options.tables) {
    const mark = byTable.get(table);
    if (mark?.done) continue;
    let after = mark?.after;
    const rows = db.table(table);
    const total = await (after === undefined ? rows.count() : rows.where(':id').above(after).count());
    let done = 0;
    let tableSkipped = 0;
    options.onProgress?.({ table, done, total, skipped: 0 });
    for (;;) {
      if (options.cancelled?.()) return { queued, skipped, skippedRows, complete: false };
      const out = await adoptSpan(options, table, after, size, (key, err) => {
        skip(table, key, err);
        tableSkipped++;
      });
      queued += out.queued;
      done += out.scanned;
      after = out.last;
      options.onProgress?.({ table, done, total, skipped: tableSkipped });
      if (out.scanned < size) break;
      // Let the app's reads and live queries run between chunks.
      await new Promise<void>((resolve) => setTimeout(resolve, 0));
    }
    // Walked to the end (the last chunk may have read nothing, or only refused rows).
    await meta.put({ key: MARK_PREFIX + table, ...(after !== undefined ? { after } : {}), done: true });
  }
  return { queued, skipped, skippedRows, complete: true };
}

/**
 * Up to `limit` rows after `after` as one chunk; if the middleware refuses one of them, the span
 * is halved until the refused rows stand alone (skipped), so one bad row costs a few more
 * transactions, not one per row.
 */
async function adoptSpan(
  options: AdoptOptions,
  table: string,
  after: unknown,
  limit: number,
  onSkip: (key: unknown, err: SynclineError) => void,
): Promise<ChunkOut> {
  const seen: { key?: unknown } = {};
  try {
    return await adoptChunk(options, table, after, limit, seen);
  } catch (err) {
    if (!(err instanceof SynclineError)) throw err;
    if (limit === 1) {
      onSkip(seen.key, err);
      return { scanned: 1, queued: 0, last: seen.key };
    }
    const half = Math.ceil(limit / 2);
    const first = await adoptSpan(options, table, after, half, onSkip);
    if (first.scanned < half) return first;
    const second = await adoptSpan(options, table, first.last, limit - half, onSkip);
    return { scanned: half + second.scanned, queued: first.queued + second.queued, last: second.last };
  }
}

/**
 * One chunk in one transaction: the next `limit` keys after `after`, the rows among them
 * without meta re-put through the outbox middleware's layer (queued), and the position stored.
 * `seen.key` gets the first key read, so a caller can skip a row whose put is refused.
 * Written as a `.then` chain on DBCore promises: no native await between DBCore calls (the
 * layers below read Dexie's transaction zone).
 */
function adoptChunk(
  options: AdoptOptions,
  table: string,
  after: unknown,
  limit: number,
  seen: { key?: unknown } = {},
): Promise<ChunkOut> {
  return options.db.transaction(
    'rw',
    [table, SYNCLINE_TABLES.outbox, SYNCLINE_TABLES.records, SYNCLINE_TABLES.meta],
    (tx) => {
      const trans = tx.idbtrans as unknown as DBCoreTransaction;
      const core = options.core();
      const rows = core.table(table);
      const records = core.table(SYNCLINE_TABLES.records);
      const min: unknown = core.MIN_KEY;
      const max: unknown = core.MAX_KEY;
      const range: DBCoreKeyRange =
        after === undefined
          ? { type: ANY, lower: min, lowerOpen: false, upper: max, upperOpen: false }
          : { type: RANGE, lower: after, lowerOpen: true, upper: max, upperOpen: false };
      let keys: unknown[] = [];
      let fresh: unknown[] = [];
      return rows
        .query({ trans, values: false, limit, query: { index: rows.schema.primaryKey, range } })
        .then((res) => {
          keys = res.result;
          seen.key = keys[0];
          // The same record-meta key the middleware and every write of server state use: [table, record id]. A key
          // with no record id has no meta: it is offered to the middleware, which refuses it.
          return records.getMany({
            trans,
            keys: keys.map((k) => {
              const id = recordIdOf(k);
              return [table, id.ok ? id.value : NO_RECORD_ID];
            }),
          });
        })
        .then((metas) => {
          fresh = keys.filter((_, i) => metas[i] === undefined);
          return fresh.length > 0 ? rows.getMany({ trans, keys: fresh }) : [];
        })
        .then((values) => {
          const last = keys[keys.length - 1];
          const mark: AdoptionMark = { key: MARK_PREFIX + table, after: last, done: keys.length < limit };
          return Dexie.Promise.all([
            fresh.length > 0 ? rows.mutate({ type: 'put', trans, keys: fresh, values }) : undefined,
            keys.length > 0
              ? core.table(SYNCLINE_TABLES.meta).mutate({ type: 'put', trans, values: [mark] })
              : undefined,
          ]).then(() => ({ scanned: keys.length, queued: fresh.length, last: last ?? after }));
        });
    },
  );
}
