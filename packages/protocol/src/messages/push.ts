import * as z from 'zod';
import { ScopeIdSchema, VersionSchema } from '../ids.js';
import { MutationSchema } from '../mutation.js';
import { MutationResultSchema } from '../mutation-result.js';
import { okResponse } from './response.js';

/**
 * A batch of mutations from one client, applied in order. Mids must be consecutive; the
 * mutations of one txn must be contiguous. Results come back in the same order.
 */
export const PushRequestSchema = z.strictObject({ mutations: z.array(MutationSchema).min(1) });
/** The TypeScript type of `PushRequestSchema`. */
export type PushRequest = z.infer<typeof PushRequestSchema>;

/**
 * The versions a push committed in one scope: `after + 1 … after + count` (consecutive: the
 * push's transaction held the scope). The pushing connection gets no `changes` broadcast of
 * its own commits (its results carry them), so it moves its cursor over these instead.
 */
export const CommittedRangeSchema = z.object({
  scope: ScopeIdSchema,
  after: VersionSchema,
  count: z.number().int().positive(),
});
/** The TypeScript type of `CommittedRangeSchema`. */
export type CommittedRange = z.infer<typeof CommittedRangeSchema>;

/** The answer to a push: one result per mutation, in order, and the version ranges it committed. */
export const PushResponseSchema = okResponse({
  results: z.array(MutationResultSchema),
  committed: z.array(CommittedRangeSchema),
});
/** The TypeScript type of `PushResponseSchema`. */
export type PushResponse = z.infer<typeof PushResponseSchema>;
