import * as z from 'zod';
import { SyncErrorSchema } from '../error-codes.js';

/** Every acknowledgement is `{ ok: true, ... }` or `{ ok: false, error }`. */
export const ErrorResponseSchema = z.object({ ok: z.literal(false), error: SyncErrorSchema });
/** The TypeScript type of `ErrorResponseSchema`. */
export type ErrorResponse = z.infer<typeof ErrorResponseSchema>;

export function okResponse<T extends z.ZodRawShape>(shape: T) {
  return z.discriminatedUnion('ok', [z.object({ ok: z.literal(true), ...shape }), ErrorResponseSchema]);
}
