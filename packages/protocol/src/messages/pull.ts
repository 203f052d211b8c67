import * as z from 'zod';
import { ScopeIdSchema, VersionSchema } from '../ids.js';
import { ChangeSchema } from '../record.js';
import { okResponse } from './response.js';

/** Ask for the latest state of every record in `scope` changed after version `after`. */
export const PullRequestSchema = z.strictObject({
  scope: ScopeIdSchema,
  after: VersionSchema,
  /**
   * The `horizon` of the response that began this client's copy of the scope (the first page
   * from 0, or the last reset). A cursor below the current horizon only resets when this is
   * older: tombstones purged before the copy began were never part of it.
   */
  horizon: VersionSchema.optional(),
  limit: z.int().min(1).optional(),
});
/** The TypeScript type of `PullRequestSchema`. */
export type PullRequest = z.infer<typeof PullRequestSchema>;

/**
 * One page, in version order. Store the changes, then advance the cursor to `upTo`; ask again
 * while `hasMore`. `reset: true` means the client's copy may have missed purged tombstones (its
 * cursor and its known horizon are both below the retention horizon) or is ahead of the server:
 * drop the scope's local records and apply this page, which starts from 0. On a page from 0 or
 * a reset, remember `horizon` and send it with later pulls.
 */
export const PullResponseSchema = okResponse({
  scope: ScopeIdSchema,
  changes: z.array(ChangeSchema),
  upTo: VersionSchema,
  head: VersionSchema,
  /** Highest version of a tombstone removed by retention in this scope. */
  horizon: VersionSchema,
  hasMore: z.boolean(),
  reset: z.boolean(),
  /**
   * The asking client's last applied mid in the same snapshot: the page reflects every one of
   * its mutations up to this mid, so pending ones at or below it must not be replayed on top.
   */
  lastMid: z.int().min(0),
});
/** The TypeScript type of `PullResponseSchema`. */
export type PullResponse = z.infer<typeof PullResponseSchema>;
