import * as z from 'zod';
import { JsonValueSchema } from '../json.js';
import { ScopeIdSchema } from '../ids.js';
import { okResponse } from './response.js';

/**
 * A per-tab id: one client id (one database on one device) has one presence entry per tab
 * (or per `SyncClient` instance). Chosen by the client; only unique within its client id.
 */
export const PresenceTabSchema = z.string().min(1).max(64);

/**
 * Publish (or replace) this tab's presence in a scope: what it is viewing or editing. Ephemeral:
 * kept in the server's memory while the socket lives, never stored, seen by every socket that
 * watches the scope. Also watches the scope (`presence_watch`). The state is plain JSON of at
 * most `limits.maxPresenceBytes`; the principal needs `subscribe` access to the scope.
 */
export const PresenceSetRequestSchema = z.strictObject({
  scope: ScopeIdSchema,
  tab: PresenceTabSchema,
  state: JsonValueSchema,
});
/** The TypeScript type of `PresenceSetRequestSchema`. */
export type PresenceSetRequest = z.infer<typeof PresenceSetRequestSchema>;

/** The answer to `presence_set`. */
export const PresenceSetResponseSchema = okResponse({});
/** The TypeScript type of `PresenceSetResponseSchema`. */
export type PresenceSetResponse = z.infer<typeof PresenceSetResponseSchema>;
