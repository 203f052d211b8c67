import * as z from 'zod';
import { ScopeIdSchema, VersionSchema } from '../ids.js';
import { ChangeSchema } from '../record.js';

/**
 * Live broadcast after a commit: the changes of one commit in one scope, versions
 * `after + 1 … after + changes.length` in order. A client whose cursor is not `after` missed
 * something (or is behind) and pulls instead of applying.
 */
export const ChangesMessageSchema = z.object({
  scope: ScopeIdSchema,
  after: VersionSchema,
  changes: z.array(ChangeSchema).min(1),
});
/** The TypeScript type of `ChangesMessageSchema`. */
export type ChangesMessage = z.infer<typeof ChangesMessageSchema>;
