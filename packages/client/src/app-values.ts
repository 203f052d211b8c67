import {
  decodeKey,
  decodeRecord,
  encodeRecord,
  type AppObject,
  type HistoryEntry,
  type JsonObject,
  type RecordKey,
  type RecordState,
} from '@syncline/protocol';
import { appKeyOf } from './store/synced-keys.js';
import type { ConflictEntry } from './store/schema.js';

/** A synced record's key as the app's table holds it: a string, a number, or a compound key. */
export type AppKey = RecordKey;

/** A history entry with its value in the app's types (`Date`, `Uint8Array`, `ArrayBuffer`). */
export type AppHistoryEntry = Omit<HistoryEntry, 'value'> & { readonly value: AppObject | null };

/** A server record state with its value in the app's types. */
export type AppRecordState = Omit<RecordState, 'value'> & { readonly value: AppObject | null };

/**
 * A manual conflict as the app sees it: values in the app's types, and `key`, the record's key
 * in the app's table (`id` is its record id on the wire). `mutation` stays in the wire encoding.
 */
export type AppConflictEntry = Omit<ConflictEntry, 'base' | 'mine' | 'theirs' | 'counters'> & {
  readonly key: AppKey;
  readonly base: AppObject | null;
  readonly mine: AppObject | null;
  readonly theirs: AppRecordState;
  /**
   * Fields (app key paths, e.g. `"likes"`) this device changed with `inc`: the server adds every
   * device's increments, so they are merged automatically (the record shows the sum), are not a
   * choice, and no resolution writes them. `base`, `mine` and `theirs` hold them as they were.
   */
  readonly counters: readonly string[];
};

const decoded = (v: JsonObject | null): AppObject | null => (v === null ? null : decodeRecord(v));

export function decodeHistoryEntry(e: HistoryEntry): AppHistoryEntry {
  return { ...e, value: decoded(e.value) };
}

/** A wire key path as the app writes it (each segment's escaping undone). */
const appPath = (path: string): string => path.split('.').map(decodeKey).join('.');

export function decodeConflict(c: ConflictEntry): AppConflictEntry {
  return {
    ...c,
    key: appKeyOf(c.id),
    base: decoded(c.base),
    mine: decoded(c.mine),
    theirs: { ...c.theirs, value: decoded(c.theirs.value) },
    counters: (c.counters ?? []).map(appPath),
  };
}

/**
 * An app row in the wire encoding; rows in a synced table were checked when written. `what`
 * names the row in the error of one that was not (e.g. written before Syncline was attached).
 */
export function wireRecord(row: unknown, what = 'a row'): JsonObject {
  const r = encodeRecord(row, 1000);
  if (!r.ok) throw new Error(`${what} cannot be synced: ${r.message} at ${r.path}`);
  return r.value;
}
