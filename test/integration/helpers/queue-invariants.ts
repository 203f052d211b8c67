// What Syncline queued matches what the app sees. Shared by the Node test (dexie-order.test.ts)
// and the Chromium fixture (test/browser/fixtures/dexie-order.ts).
import type { Dexie } from 'dexie';
import type { JsonObject } from '@syncline/protocol';
import { replay } from '../../../packages/client/src/store/replay.js';
import {
  SYNCLINE_TABLES,
  type OutboxEntry,
  type RecordMeta,
} from '../../../packages/client/src/store/schema.js';

/**
 * Mismatches between Syncline's queue and the visible records (empty when none): mids must be
 * dense from 1; every record with queued changes has a confirmed copy, and that copy with the
 * queued changes replayed on top is the record the app sees.
 */
export async function queueMismatches(db: Dexie): Promise<string[]> {
  const problems: string[] = [];
  const entries = await db.table<OutboxEntry>(SYNCLINE_TABLES.outbox).orderBy('mid').toArray();
  const mids = entries.map((e) => e.mid);
  if (mids.some((mid, i) => mid !== i + 1)) problems.push(`mids are not dense from 1: ${mids.join(',')}`);
  const pending = new Set(entries.map((e) => `${e.table}/${e.key}`));
  for (const meta of await db.table<RecordMeta>(SYNCLINE_TABLES.records).toArray()) {
    if (meta.confirmed === undefined) continue;
    const record = `${meta.table}/${meta.id}`;
    pending.delete(record);
    const queued = entries.filter((e) => e.table === meta.table && e.key === meta.id);
    const replayed = replay(meta.confirmed, queued);
    const visible = (await db.table<JsonObject>(meta.table).get(meta.id)) ?? null;
    if (canonical(replayed) !== canonical(visible))
      problems.push(`${record}: queued ${canonical(replayed)}, visible ${canonical(visible)}`);
  }
  for (const record of pending) problems.push(`${record}: queued changes but no confirmed copy`);
  return problems;
}

/** JSON with object keys sorted, so equal records compare equal whatever their key order. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v !== null && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : v,
  );
}
