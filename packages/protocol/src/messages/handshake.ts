import * as z from 'zod';
import { ClientIdSchema } from '../ids.js';

/** Sent as Socket.IO `auth` when connecting. `token` is passed to the server's authenticate hook. */
export const HandshakeSchema = z.object({
  protocolVersion: z.int(),
  clientId: ClientIdSchema,
  token: z.string().max(8192).optional(),
});
/** The TypeScript type of `HandshakeSchema`. */
export type Handshake = z.infer<typeof HandshakeSchema>;

/** First event after a connection is accepted. */
export const HelloSchema = z.object({
  protocolVersion: z.int(),
  nodeId: z.string(),
  serverTime: z.number(),
  /** The principal id the client id is bound to. */
  userId: z.string(),
  /** True when the server runs in development auth mode (everything allowed). */
  devMode: z.boolean(),
  /**
   * When the connection's credentials expire (ms since the epoch, server clock), or null when
   * they do not (protocol 4). The server closes the connection then; a client refreshes before
   * (`reauth`), measuring the lifetime against `serverTime`, not its own clock.
   */
  expiresAt: z.number().nullable(),
});
/** The TypeScript type of `HelloSchema`. */
export type Hello = z.infer<typeof HelloSchema>;
