import { z } from 'zod';
import { ScopeIdSchema, VersionSchema } from '../ids.js';
import { ChangeSchema } from '../record.js';
import { okResponse } from './response.js';

/** Ask for the latest state of every record in `scope` changed after version `after`. */
export const PullRequestSchema = z.strictObject({
  scope: ScopeIdSchema,
  after: VersionSchema,
  limit: z.int().min(1).optional(),
});
export type PullRequest = z.infer<typeof PullRequestSchema>;

/**
 * One page, in version order. Store the changes, then advance the cursor to `upTo`; ask again
 * while `hasMore`. `reset: true` means `after` is older than the retention horizon (or ahead of
 * the server): drop the scope's local records and apply this page, which starts from 0.
 */
export const PullResponseSchema = okResponse({
  scope: ScopeIdSchema,
  changes: z.array(ChangeSchema),
  upTo: VersionSchema,
  head: VersionSchema,
  hasMore: z.boolean(),
  reset: z.boolean(),
});
export type PullResponse = z.infer<typeof PullResponseSchema>;
