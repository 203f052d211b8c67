import * as z from 'zod';
import { SyncErrorSchema } from '../error-codes.js';
import { ScopeIdSchema, VersionSchema } from '../ids.js';
import { okResponse } from './response.js';

/** Join the live `changes` feed of each scope. Each scope is authorized separately. */
export const SubscribeRequestSchema = z.strictObject({ scopes: z.array(ScopeIdSchema).min(1).max(256) });
/** The TypeScript type of `SubscribeRequestSchema`. */
export type SubscribeRequest = z.infer<typeof SubscribeRequestSchema>;

/** One scope's subscription: its current head, or why it was refused. */
export const ScopeSubscriptionSchema = z.discriminatedUnion('ok', [
  z.object({ scope: ScopeIdSchema, ok: z.literal(true), head: VersionSchema }),
  z.object({ scope: ScopeIdSchema, ok: z.literal(false), error: SyncErrorSchema }),
]);
/** The TypeScript type of `ScopeSubscriptionSchema`. */
export type ScopeSubscription = z.infer<typeof ScopeSubscriptionSchema>;

/** The answer to `subscribe`: one entry per scope asked for, in the same order. */
export const SubscribeResponseSchema = okResponse({ scopes: z.array(ScopeSubscriptionSchema) });
/** The TypeScript type of `SubscribeResponseSchema`. */
export type SubscribeResponse = z.infer<typeof SubscribeResponseSchema>;

/** Leave the live feed of each scope (the same shape as `subscribe`). */
export const UnsubscribeRequestSchema = SubscribeRequestSchema;
/** The same shape as `SubscribeRequest`. */
export type UnsubscribeRequest = SubscribeRequest;
/** The answer to `unsubscribe`. */
export const UnsubscribeResponseSchema = okResponse({});
/** The TypeScript type of `UnsubscribeResponseSchema`. */
export type UnsubscribeResponse = z.infer<typeof UnsubscribeResponseSchema>;
