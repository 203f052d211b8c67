import * as z from 'zod';
import { ScopeIdSchema, VersionSchema } from '../ids.js';
import { okResponse } from './response.js';

/** Ask for the server's content hash of a scope (see `ScopeHasher`) to check convergence. */
export const HashRequestSchema = z.strictObject({ scope: ScopeIdSchema });
export type HashRequest = z.infer<typeof HashRequestSchema>;

export const HashResponseSchema = okResponse({
  scope: ScopeIdSchema,
  hash: z.string(),
  count: z.int(),
  head: VersionSchema,
});
export type HashResponse = z.infer<typeof HashResponseSchema>;
