import * as z from 'zod';
import { SyncErrorSchema } from '../error-codes.js';
import { okResponse } from './response.js';

/**
 * Fresh credentials for the live connection (protocol 4). The server runs its `authenticate`
 * hook on `token` as it did in the handshake; the principal must be the same user the socket
 * already is (`client_id_mismatch` otherwise). Nothing else about the connection changes: its
 * subscriptions, its push order and the client's outbox stay as they are.
 */
export const ReauthRequestSchema = z.strictObject({ token: z.string().min(1).max(8192) });
/** The TypeScript type of `ReauthRequestSchema`. */
export type ReauthRequest = z.infer<typeof ReauthRequestSchema>;

/**
 * The answer to `reauth`: when the new credentials expire (ms since the epoch, server clock;
 * null when they do not) and the server's time when it answered, so a client with a skewed
 * clock can still tell how long they last (`expiresAt - serverTime`).
 */
export const ReauthResponseSchema = okResponse({
  expiresAt: z.number().nullable(),
  serverTime: z.number(),
});
/** The TypeScript type of `ReauthResponseSchema`. */
export type ReauthResponse = z.infer<typeof ReauthResponseSchema>;

/**
 * Sent by the server just before it closes a connection whose access ended: its credentials
 * expired (`auth_expired`) or the app revoked them (`access_revoked`). The client reconnects,
 * asking its `token` function for fresh credentials.
 */
export const SessionEndedSchema = SyncErrorSchema;
/** The TypeScript type of `SessionEndedSchema`. */
export type SessionEnded = z.infer<typeof SessionEndedSchema>;
