import type { Dexie } from 'dexie';
import type { Mutation } from '@syncline/protocol';
import { SYNCLINE_TABLES, type OutboxEntry } from './schema.js';

/**
 * A stand-in for `m` that the server always refuses (a restore of a version that cannot exist),
 * with the same mid, scope and txn. Mids must reach the server in order, so a mutation that must
 * not be applied is replaced by this rather than dropped: its mid is consumed, nothing changes.
 */
export function placeholderMutation(m: Mutation): Mutation {
  return {
    mid: m.mid,
    scope: m.scope,
    collection: m.collection,
    id: m.id,
    base: m.base,
    op: 'restore',
    version: Number.MAX_SAFE_INTEGER,
    ...(m.txn !== undefined ? { txn: m.txn } : {}),
  } as Mutation;
}

/**
 * Turns every outbox entry into a discarded placeholder, inside the caller's transaction. The
 * entries stay queued (and are pushed) so the server consumes their mids, but their key no
 * longer names a record (ids never contain NUL), so nothing local is replayed from them, and
 * their answers are ignored (`settleResults`).
 */
export async function discardOutbox(db: Dexie): Promise<void> {
  const outbox = db.table<OutboxEntry, number>(SYNCLINE_TABLES.outbox);
  const entries = await outbox.toArray();
  await outbox.bulkPut(
    entries.map((e): OutboxEntry => ({
      mid: e.mid,
      table: e.table,
      key: `\u0000discarded:${e.mid}`,
      createdAt: e.createdAt,
      mutation: placeholderMutation(e.mutation),
      discarded: true,
    })),
  );
}
