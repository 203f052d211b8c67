import {
  lastMidOf,
  type ClientId,
  type ConflictStrategy,
  type JsonObject,
  type Mutation,
} from '@syncline/protocol';
import type { StorageTx, StoredHistoryEntry, StoredRecord } from '../storage/storage.js';

export interface ChangeToWrite {
  readonly mutation: Mutation;
  /** The new value; null writes a tombstone. */
  readonly value: JsonObject | null;
  readonly prevVersion: number;
  readonly clientId: ClientId | null;
  readonly userId: string | null;
  readonly now: number;
  readonly conflict: { readonly strategy: ConflictStrategy; readonly overwritten: string[] } | null;
  readonly restoredFrom: number | null;
}

/**
 * Commits one change inside a transaction: allocates the scope's next version, replaces the
 * record's latest state and appends the history entry. Every write path goes through here, so
 * latest state and history can never disagree. Returns the appended history entry: the change as
 * committed (its `value` is the record's new latest state), which fan-out, the change feed and
 * webhooks publish.
 */
export async function writeChange(tx: StorageTx, c: ChangeToWrite): Promise<StoredHistoryEntry> {
  const m = c.mutation;
  const version = await tx.nextVersion(m.scope);
  // A coalesced mutation's change includes every mid it covers: readers take `mid` as "this
  // client's mutations up to here are in the value".
  const mid = c.clientId === null ? null : lastMidOf(m);
  const record: StoredRecord = {
    scope: m.scope,
    collection: m.collection,
    id: m.id,
    version,
    value: c.value,
    clientId: c.clientId,
    mid,
    updatedAt: c.now,
  };
  await tx.putRecord(record);
  const entry: StoredHistoryEntry = {
    scope: m.scope,
    collection: m.collection,
    id: m.id,
    version,
    prevVersion: c.prevVersion as StoredRecord['version'],
    op: m.op,
    value: c.value,
    clientId: c.clientId,
    mid,
    userId: c.userId,
    serverTime: c.now,
    conflict: c.conflict,
    restoredFrom: c.restoredFrom as StoredRecord['version'] | null,
  };
  await tx.appendHistory(entry);
  return entry;
}
