import * as z from 'zod';
import { ClientIdSchema } from '../ids.js';
import { MutationResultSchema } from '../mutation-result.js';
import { okResponse } from './response.js';

/**
 * A backend's write over HTTP (`POST /v1/mutations`): mutations exactly as a client pushes them
 * (dense mids, contiguous txns), applied under the backend's own client id. Without `clientId`
 * the server derives one from the principal. Re-sending the same mutations is safe: mids at or
 * below the last applied one are answered `duplicate`.
 *
 * Only the envelope is checked here; `mutations` is validated like a socket push.
 */
export const ServerWriteRequestSchema = z.strictObject({
  clientId: ClientIdSchema.optional(),
  mutations: z.array(z.unknown()).min(1),
});
/** The TypeScript type of `ServerWriteRequestSchema`. */
export type ServerWriteRequest = z.infer<typeof ServerWriteRequestSchema>;

/** One result per mutation, in order, and the client id they were applied under. */
export const ServerWriteResponseSchema = okResponse({
  clientId: ClientIdSchema,
  results: z.array(MutationResultSchema),
});
/** The TypeScript type of `ServerWriteResponseSchema`. */
export type ServerWriteResponse = z.infer<typeof ServerWriteResponseSchema>;

/**
 * A backend client id's state (`GET /v1/mutations/state`): the last mid applied for it, so a
 * backend that lost its counter resumes at `lastMid + 1` instead of having new writes mistaken
 * for duplicates.
 */
export const WriterStateResponseSchema = okResponse({
  clientId: ClientIdSchema,
  lastMid: z.int().min(0),
});
/** The TypeScript type of `WriterStateResponseSchema`. */
export type WriterStateResponse = z.infer<typeof WriterStateResponseSchema>;
