import * as z from 'zod';
import { ScopeIdSchema } from '../ids.js';
import { okResponse } from './response.js';

/**
 * Start (`watch: true`) or stop receiving a scope's `presence` messages. Starting needs
 * `subscribe` access; the server then sends the current entries of every node (its own at
 * once, the other nodes' as they answer, and all of them again on each refresh).
 */
export const PresenceWatchRequestSchema = z.strictObject({ scope: ScopeIdSchema, watch: z.boolean() });
/** The TypeScript type of `PresenceWatchRequestSchema`. */
export type PresenceWatchRequest = z.infer<typeof PresenceWatchRequestSchema>;

/** The answer to `presence_watch`. */
export const PresenceWatchResponseSchema = okResponse({});
/** The TypeScript type of `PresenceWatchResponseSchema`. */
export type PresenceWatchResponse = z.infer<typeof PresenceWatchResponseSchema>;
