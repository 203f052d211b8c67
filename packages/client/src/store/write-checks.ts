import { Dexie } from 'dexie';
import type { DBCoreMutateRequest } from 'dexie';
import {
  encodeRecord,
  FORBIDDEN_KEYS,
  inspectJson,
  type JsonObject,
  type Limits,
  type SyncError,
  syncError,
} from '@syncline/protocol';
import { SynclineError } from '../errors.js';
import { recordIdOf, type KeyPath } from './synced-keys.js';

/**
 * The checks a local write on a synced table passes before anything is stored: the same checks
 * the server would make, so a write that could never sync is refused instead of queued.
 */

/**
 * A local write refused before it was stored (the same checks the server would make) rejects
 * with `SynclineError`, its code one of the protocol's.
 * @deprecated Use `SynclineError`: this is the same class under its former name.
 */
export const SynclineWriteError: new (error: SyncError) => SynclineError = SynclineError;
/** @deprecated Use `SynclineError` (see the value of the same name). */
export type SynclineWriteError = SynclineError;

/** A record in the wire encoding, or the write refused (a value that cannot be synced). */
export function wire(value: unknown): JsonObject {
  // The depth here only guards against cycles; `checkValue` applies the configured limit after.
  const r = encodeRecord(value, 1000);
  if (!r.ok) throw new SynclineError(syncError(r.code, `${r.message} at ${r.path}`));
  return r.value;
}

/** The value in the wire encoding (`Date` and binaries tagged), checked against the limits. */
export function checkValue(value: unknown, limits: Pick<Limits, 'maxDepth' | 'maxRecordBytes'>): JsonObject {
  const encoded = wire(value);
  const r = inspectJson(encoded, { maxDepth: limits.maxDepth, maxBytes: limits.maxRecordBytes });
  if (!r.ok) {
    const code = r.code === 'payload_too_large' ? 'record_too_large' : r.code;
    throw new SynclineError(syncError(code, `${r.message} at ${r.path}`));
  }
  return encoded;
}

/** Refuses update key paths with a `__proto__`/`constructor`/`prototype` segment. */
export function checkPaths(spec: Readonly<Record<string, unknown>> | false | undefined): void {
  for (const path of Object.keys(spec || {})) {
    const bad = path.split('.').find((seg) => FORBIDDEN_KEYS.has(seg));
    if (bad !== undefined) {
      throw new SynclineError(syncError('forbidden_key', `forbidden key "${bad}" in key path "${path}"`));
    }
  }
}

/** The scope of a record from its value (decoded, as the app stores it), by a table's `scope` option. */
export function scopeOf(
  scope: string | ((record: JsonObject) => string),
  value: JsonObject | undefined,
): string {
  if (typeof scope === 'string') return scope;
  if (value === undefined)
    throw new SynclineError(syncError('invalid_message', 'cannot tell the scope of a missing record'));
  return scope(value);
}

/** The primary keys of an add, put or delete, in request order. */
export function keysOf(req: DBCoreMutateRequest, keyPath: KeyPath): readonly unknown[] {
  if (req.type === 'delete') return req.keys;
  if (req.type === 'deleteRange') return [];
  return (
    req.keys ?? req.values.map((v): unknown => Dexie.getByKeyPath(v as object, keyPath as string | string[]))
  );
}

/**
 * The record ids of `keys` (see `encodeRecordKey`), or the write refused: the server would refuse
 * the push, and refusing the write keeps it out of the outbox.
 */
export function idsOf(table: string, keys: readonly unknown[]): string[] {
  return keys.map((key) => {
    const id = recordIdOf(key);
    if (!id.ok) throw new SynclineError(syncError('invalid_message', `${table}: ${id.message}`));
    return id.value;
  });
}
