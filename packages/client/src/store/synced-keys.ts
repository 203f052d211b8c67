import { Dexie } from 'dexie';
import {
  decodeRecord,
  decodeRecordKey,
  encodeRecordKey,
  type JsonObject,
  type RecordKey,
  type RecordKeyResult,
} from '@syncline/protocol';
import { clientError } from '../errors.js';

/** A primary key's key path: one field, several (compound), or none (outbound). */
export type KeyPath = string | readonly string[] | null | undefined;

/**
 * Refuses, before the database opens, synced tables whose records Syncline cannot address the
 * same way on every device: auto-increment keys (`++id`: each device would number its own
 * records 1, 2, 3… and they would collide) and outbound keys (no key path: the key is not in the
 * record, so another device could not store it). Throws `SynclineError('unsupported_key')`
 * naming the table and what to declare instead.
 */
export function checkSyncedTables(db: Dexie, tables: readonly string[]): void {
  for (const name of tables) {
    const table = db.tables.find((t) => t.name === name);
    if (!table) {
      throw clientError(
        'unsupported_key',
        `synced table "${name}" is not in the database schema: declare it with ` +
          `db.version(n).stores({ ${name}: 'id, …' }) before createSyncClient`,
      );
    }
    const pk = table.schema.primKey;
    if (pk.auto) {
      throw clientError(
        'unsupported_key',
        `synced table "${name}" has an auto-increment key (++${String(pk.keyPath ?? '')}): devices would ` +
          `create records with the same numbers. Declare it as '${String(pk.keyPath || 'id')}' and create ` +
          `keys with newId() (e.g. { id: newId(), … })`,
      );
    }
    const keyPath = pk.keyPath;
    if (keyPath === null || keyPath === undefined || keyPath === '') {
      throw clientError(
        'unsupported_key',
        `synced table "${name}" has an outbound key (no key path): other devices could not tell a ` +
          `record's key. Declare an inbound key such as 'id' (stores({ ${name}: 'id, …' })) and ` +
          `store the key in the record, e.g. { id: newId(), … }`,
      );
    }
  }
}

/** The record id of an app key (see `encodeRecordKey`). */
export function recordIdOf(key: unknown): RecordKeyResult<string> {
  return encodeRecordKey(key);
}

/**
 * The app's key of a record id. Ids come from this client or a server that validated them; an
 * id that is not a key encoding (data written before keys were encoded) stays the string it is.
 */
export function appKeyOf(id: string): RecordKey {
  const key = decodeRecordKey(id);
  return key.ok ? key.value : id;
}

/**
 * The app row of a record's wire value: decoded into the app's types, with its key field(s) set
 * from the record id (server-side writers may omit them, and the table needs them).
 */
export function appRowOf(keyPath: KeyPath, id: string, value: JsonObject): Record<string, unknown> {
  const row: Record<string, unknown> = decodeRecord(value);
  const key = appKeyOf(id);
  if (typeof keyPath === 'string') Dexie.setByKeyPath(row, keyPath, key);
  else if (Array.isArray(keyPath) && Array.isArray(key) && key.length === keyPath.length)
    keyPath.forEach((p: string, i) => Dexie.setByKeyPath(row, p, key[i]));
  return row;
}
