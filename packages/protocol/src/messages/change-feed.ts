import * as z from 'zod';
import { SyncErrorSchema } from '../error-codes.js';
import { CollectionNameSchema, RecordIdSchema, ScopeIdSchema, VersionSchema } from '../ids.js';
import { HistoryEntrySchema } from './history.js';

/**
 * One committed change as the change feed and webhooks deliver it: the scope's history entry of
 * version `version` (op, resulting value — null for a delete —, previous version, writer, server
 * time, conflict flags), with its record's address. A scope's feed holds exactly one entry per
 * version, in version order, so `(scope, version)` identifies a change and is its idempotency key.
 */
export const FeedChangeSchema = HistoryEntrySchema.extend({
  scope: ScopeIdSchema,
  collection: CollectionNameSchema,
  id: RecordIdSchema,
});
/** The TypeScript type of `FeedChangeSchema`. */
export type FeedChange = z.infer<typeof FeedChangeSchema>;

/**
 * One line of the change feed in JSON-lines form (`Accept: application/x-ndjson`). The
 * Server-Sent Events form carries the same events: `event: change` with `id: <version>` and the
 * change as `data`, `event: caught_up`, `event: error`, and `:` comments as heartbeats.
 *
 * - `change`: the next committed change (versions strictly increase by one).
 * - `caught_up`: sent once, when the backlog up to the head at that moment has been delivered;
 *   later changes stream live.
 * - `heartbeat`: nothing new; keeps proxies from closing an idle stream.
 * - `error`: the stream ends here (e.g. `cursor_unavailable`, `auth_expired`, `shutting_down`).
 */
export const FeedLineSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('change'), change: FeedChangeSchema }),
  z.object({ type: z.literal('caught_up'), version: VersionSchema }),
  z.object({ type: z.literal('heartbeat') }),
  z.object({ type: z.literal('error'), error: SyncErrorSchema }),
]);
/** The TypeScript type of `FeedLineSchema`. */
export type FeedLine = z.infer<typeof FeedLineSchema>;
