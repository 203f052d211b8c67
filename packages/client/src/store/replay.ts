import { applyMutation, type JsonObject } from '@syncline/protocol';
import type { OutboxEntry } from './schema.js';

/**
 * The visible value of a record: its confirmed value with the pending mutations replayed in mid
 * order. A mutation that cannot apply (a patch of a record deleted meanwhile) is skipped: the
 * server will answer it, and the answer settles the record.
 */
export function replay(confirmed: JsonObject | null, pending: readonly OutboxEntry[]): JsonObject | null {
  let value = confirmed;
  for (const entry of pending) {
    const m = entry.mutation;
    if (m.op === 'restore') {
      if (entry.restoreValue !== undefined) value = entry.restoreValue;
      continue;
    }
    const out = applyMutation(value, m);
    if (out.ok) value = out.value;
  }
  return value;
}
