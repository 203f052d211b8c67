import * as z from 'zod';
import { SyncErrorSchema } from '../error-codes.js';
import { ScopeIdSchema, VersionSchema } from '../ids.js';
import { okResponse } from './response.js';

/** Join the live `changes` feed of each scope. Each scope is authorized separately. */
export const SubscribeRequestSchema = z.strictObject({ scopes: z.array(ScopeIdSchema).min(1).max(256) });
export type SubscribeRequest = z.infer<typeof SubscribeRequestSchema>;

export const ScopeSubscriptionSchema = z.discriminatedUnion('ok', [
  z.object({ scope: ScopeIdSchema, ok: z.literal(true), head: VersionSchema }),
  z.object({ scope: ScopeIdSchema, ok: z.literal(false), error: SyncErrorSchema }),
]);
export type ScopeSubscription = z.infer<typeof ScopeSubscriptionSchema>;

export const SubscribeResponseSchema = okResponse({ scopes: z.array(ScopeSubscriptionSchema) });
export type SubscribeResponse = z.infer<typeof SubscribeResponseSchema>;

export const UnsubscribeRequestSchema = SubscribeRequestSchema;
export type UnsubscribeRequest = SubscribeRequest;
export const UnsubscribeResponseSchema = okResponse({});
export type UnsubscribeResponse = z.infer<typeof UnsubscribeResponseSchema>;
