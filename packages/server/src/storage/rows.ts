import { asClientId, asMid, asScopeId, asVersion } from '@syncline/protocol';
import type { HistoryEntry, JsonObject } from '@syncline/protocol';
import type { ClientRow, StoredHistoryEntry, StoredRecord } from './storage.js';

/**
 * Rows as the SQL backends (SQLite, PostgreSQL) return them — same column names, numbers as JS
 * numbers, JSON as text — and their mapping to the storage types. JSON is stored as text, not
 * as a JSON column type, so a value round-trips byte for byte (key order included).
 */
export interface RecordRow {
  scope: string;
  collection: string;
  id: string;
  version: number;
  value: string | null;
  client_id: string | null;
  mid: number | null;
  updated_at: number;
}

export interface HistoryRow extends Omit<RecordRow, 'updated_at'> {
  prev_version: number;
  op: string;
  user_id: string | null;
  server_time: number;
  conflict: string | null;
  restored_from: number | null;
}

export interface ClientDbRow {
  client_id: string;
  user_id: string;
  last_mid: number;
}

export const toRecord = (r: RecordRow): StoredRecord => ({
  scope: asScopeId(r.scope),
  collection: r.collection,
  id: r.id,
  version: asVersion(r.version),
  value: r.value === null ? null : (JSON.parse(r.value) as JsonObject),
  clientId: r.client_id === null ? null : asClientId(r.client_id),
  mid: r.mid === null ? null : asMid(r.mid),
  updatedAt: r.updated_at,
});

export const toHistory = (r: HistoryRow): StoredHistoryEntry => ({
  scope: asScopeId(r.scope),
  collection: r.collection,
  id: r.id,
  version: asVersion(r.version),
  prevVersion: asVersion(r.prev_version),
  op: r.op as HistoryEntry['op'],
  value: r.value === null ? null : (JSON.parse(r.value) as JsonObject),
  clientId: r.client_id === null ? null : asClientId(r.client_id),
  mid: r.mid === null ? null : asMid(r.mid),
  userId: r.user_id,
  serverTime: r.server_time,
  conflict: r.conflict === null ? null : (JSON.parse(r.conflict) as HistoryEntry['conflict']),
  restoredFrom: r.restored_from === null ? null : asVersion(r.restored_from),
});

export const toClient = (r: ClientDbRow): ClientRow => ({
  clientId: asClientId(r.client_id),
  userId: r.user_id,
  lastMid: r.last_mid,
});

/**
 * JSON text of the values one transaction writes, each serialized once. A change writes the
 * same value object twice in a row — as the record's latest state and in its history entry —
 * and serializing it was a measurable share of ingest, so the last value's text is kept.
 *
 * Only the very last value is remembered, and only for as long as the transaction lives: values
 * are treated as immutable once handed to storage, and a one-slot memo never holds a value back
 * from the garbage collector for longer than the next write.
 */
export class JsonTexts {
  #value: JsonObject | undefined;
  #text = '';

  /** `value` as JSON text; null (a tombstone) stays null. */
  of(value: JsonObject | null): string | null {
    if (value === null) return null;
    if (value !== this.#value) {
      this.#text = JSON.stringify(value);
      this.#value = value;
    }
    return this.#text;
  }
}
