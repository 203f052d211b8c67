import * as z from 'zod';
import { MidSchema, VersionSchema } from './ids.js';
import { SyncErrorSchema } from './error-codes.js';
import { RecordStateSchema } from './record.js';
import { JsonObjectSchema } from './json.js';

/** How a server resolves concurrent changes in a collection. */
export const CONFLICT_STRATEGIES = ['merge', 'lww', 'manual', 'custom'] as const;
export type ConflictStrategy = (typeof CONFLICT_STRATEGIES)[number];

/** Applied as sent, on the version the client based it on (or only on its own later changes). */
export const AppliedResultSchema = z.object({
  mid: MidSchema,
  status: z.literal('applied'),
  version: VersionSchema,
});

/** Concurrent with another client's change and resolved automatically; carries the result. */
export const MergedResultSchema = z.object({
  mid: MidSchema,
  status: z.literal('merged'),
  record: RecordStateSchema,
  strategy: z.enum(CONFLICT_STRATEGIES),
});

/** Concurrent under the `manual` strategy: not applied; carries the current server record. */
export const ConflictResultSchema = z.object({
  mid: MidSchema,
  status: z.literal('conflict'),
  record: RecordStateSchema,
  /**
   * The record's value at the mutation's base version (null = did not exist), when still in
   * history: the client's own copy may already have moved on, and a conflict UI needs the base.
   */
  base: JsonObjectSchema.nullable().optional(),
});

/** Refused for good (validation, permission, txn abort). The client's mid still advances. */
export const RejectedResultSchema = z.object({
  mid: MidSchema,
  status: z.literal('rejected'),
  error: SyncErrorSchema,
});

/** Already applied earlier (a retry); nothing was done this time. */
export const DuplicateResultSchema = z.object({
  mid: MidSchema,
  status: z.literal('duplicate'),
});

export const MutationResultSchema = z.discriminatedUnion('status', [
  AppliedResultSchema,
  MergedResultSchema,
  ConflictResultSchema,
  RejectedResultSchema,
  DuplicateResultSchema,
]);

export type AppliedResult = z.infer<typeof AppliedResultSchema>;
export type MergedResult = z.infer<typeof MergedResultSchema>;
export type ConflictResult = z.infer<typeof ConflictResultSchema>;
export type RejectedResult = z.infer<typeof RejectedResultSchema>;
export type DuplicateResult = z.infer<typeof DuplicateResultSchema>;
export type MutationResult = z.infer<typeof MutationResultSchema>;
export type MutationStatus = MutationResult['status'];
