import { z } from 'zod';
import { MutationSchema } from '../mutation.js';
import { MutationResultSchema } from '../mutation-result.js';
import { okResponse } from './response.js';

/**
 * A batch of mutations from one client, applied in order. Mids must be consecutive; the
 * mutations of one txn must be contiguous. Results come back in the same order.
 */
export const PushRequestSchema = z.strictObject({ mutations: z.array(MutationSchema).min(1) });
export type PushRequest = z.infer<typeof PushRequestSchema>;

export const PushResponseSchema = okResponse({ results: z.array(MutationResultSchema) });
export type PushResponse = z.infer<typeof PushResponseSchema>;
