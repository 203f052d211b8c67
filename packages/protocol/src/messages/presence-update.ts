import * as z from 'zod';
import { JsonValueSchema } from '../json.js';
import { ClientIdSchema, ScopeIdSchema } from '../ids.js';
import { PresenceTabSchema } from './presence-set.js';

/** Who an entry is: the principal's user id as the server authenticated it, client id, tab. */
export const PresenceKeySchema = z.strictObject({
  user: z.string(),
  client: ClientIdSchema,
  tab: PresenceTabSchema,
});
/** The TypeScript type of `PresenceKeySchema`. */
export type PresenceKey = z.infer<typeof PresenceKeySchema>;

/** One tab's presence in a scope. */
export const PresenceEntrySchema = PresenceKeySchema.extend({ state: JsonValueSchema });
/** The TypeScript type of `PresenceEntrySchema`. */
export type PresenceEntry = z.infer<typeof PresenceEntrySchema>;

/**
 * Server → client: entries of one scope that are (still) present, and keys that left. An entry
 * in `entries` is valid for `ttlMs` from its arrival: the node that holds it sends it again
 * before then (a refresh), so an entry that is not refreshed in time belongs to a node that
 * died or lost its fan-out, and receivers drop it.
 */
export const PresenceMessageSchema = z.strictObject({
  scope: ScopeIdSchema,
  ttlMs: z.int().min(1),
  entries: z.array(PresenceEntrySchema),
  left: z.array(PresenceKeySchema),
});
/** The TypeScript type of `PresenceMessageSchema`. */
export type PresenceMessage = z.infer<typeof PresenceMessageSchema>;
