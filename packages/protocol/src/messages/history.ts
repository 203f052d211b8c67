import * as z from 'zod';
import {
  ClientIdSchema,
  CollectionNameSchema,
  MidSchema,
  RecordIdSchema,
  ScopeIdSchema,
  VersionSchema,
} from '../ids.js';
import { JsonObjectSchema } from '../json.js';
import { MUTATION_OPS } from '../mutation.js';
import { CONFLICT_STRATEGIES } from '../mutation-result.js';
import { okResponse } from './response.js';

/** Ask for a record's history, newest first; page with `before`. */
export const HistoryRequestSchema = z.strictObject({
  scope: ScopeIdSchema,
  collection: CollectionNameSchema,
  id: RecordIdSchema,
  before: VersionSchema.optional(),
  limit: z.int().min(1).max(1000).optional(),
});
/** The TypeScript type of `HistoryRequestSchema`. */
export type HistoryRequest = z.infer<typeof HistoryRequestSchema>;

/** One change in a record's history: what it became, who made it and when. */
export const HistoryEntrySchema = z.object({
  version: VersionSchema,
  /** The record's version before this change (0 = it did not exist). */
  prevVersion: VersionSchema,
  op: z.enum(MUTATION_OPS),
  /** The record's value after this change; null when it was deleted. */
  value: JsonObjectSchema.nullable(),
  clientId: ClientIdSchema.nullable(),
  mid: MidSchema.nullable(),
  userId: z.string().nullable(),
  /** Server time of the commit, ms since the epoch. */
  serverTime: z.number(),
  /**
   * Set when this change overwrote a concurrent one: the strategy that resolved it and the
   * fields whose other-side value was overwritten (that value stays at `prevVersion`).
   */
  conflict: z.object({ strategy: z.enum(CONFLICT_STRATEGIES), overwritten: z.array(z.string()) }).nullable(),
  /** Set when this change restored an older version. */
  restoredFrom: VersionSchema.nullable(),
});
/** The TypeScript type of `HistoryEntrySchema`. */
export type HistoryEntry = z.infer<typeof HistoryEntrySchema>;

/** A page of one record's history, newest first. */
export const HistoryResponseSchema = okResponse({ entries: z.array(HistoryEntrySchema) });
/** The TypeScript type of `HistoryResponseSchema`. */
export type HistoryResponse = z.infer<typeof HistoryResponseSchema>;
