import * as z from 'zod';
import { ScopeIdSchema, VersionSchema } from '../ids.js';
import { okResponse } from './response.js';

/** Ask for the server's content hash of a scope (see `ScopeHasher`) to check convergence. */
export const HashRequestSchema = z.strictObject({ scope: ScopeIdSchema });
/** The TypeScript type of `HashRequestSchema`. */
export type HashRequest = z.infer<typeof HashRequestSchema>;

/** A scope's content hash (`ScopeHasher`) and the head it covers. */
export const HashResponseSchema = okResponse({
  scope: ScopeIdSchema,
  hash: z.string(),
  count: z.int(),
  head: VersionSchema,
});
/** The TypeScript type of `HashResponseSchema`. */
export type HashResponse = z.infer<typeof HashResponseSchema>;
