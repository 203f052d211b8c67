import * as z from 'zod';
import { CollectionNameSchema, RecordIdSchema, ScopeIdSchema, VersionSchema } from '../ids.js';
import { JsonObjectSchema, JsonValueSchema } from '../json.js';
import { QUERY_LIMITS } from '../limits.js';
import { SyncErrorSchema } from '../error-codes.js';
import { okResponse } from './response.js';

/** Comparisons a `where` clause may make. `in` takes `values`, every other one `value`. */
export const QUERY_OPS = ['eq', 'ne', 'lt', 'lte', 'gt', 'gte', 'in'] as const;
/** One of `QUERY_OPS`. */
export type QueryOp = (typeof QUERY_OPS)[number];

/**
 * A field of a record value: a top-level name or a dotted path (`"address.city"`), with each
 * segment encoded like an object key (`encodeKeyPath`). The server reads own properties only.
 */
const FieldSchema = z.string().min(1).max(QUERY_LIMITS.maxFieldLength);

/** `field op value`: compares the field with one (encoded) value. */
export const QueryComparisonSchema = z.strictObject({
  field: FieldSchema,
  op: z.enum(['eq', 'ne', 'lt', 'lte', 'gt', 'gte']),
  value: JsonValueSchema,
});

/** `field in values`: the field equals one of the (encoded) values. */
export const QueryInSchema = z.strictObject({
  field: FieldSchema,
  op: z.literal('in'),
  values: z.array(JsonValueSchema).min(1).max(QUERY_LIMITS.maxInValues),
});

/** One clause of a `where`; a `where` is the AND of its clauses. */
export const QueryClauseSchema = z.discriminatedUnion('op', [QueryComparisonSchema, QueryInSchema]);
/** The TypeScript type of `QueryClauseSchema`. */
export type QueryClause = z.infer<typeof QueryClauseSchema>;

/** Order of the results: one field, then the record id (so the order is total). */
export const QueryOrderSchema = z.strictObject({
  field: FieldSchema,
  direction: z.enum(['asc', 'desc']).optional(),
});
/** The TypeScript type of `QueryOrderSchema`. */
export type QueryOrder = z.infer<typeof QueryOrderSchema>;

/**
 * A read-through query: records of one collection of one scope that match every clause of
 * `where`, in `orderBy` order (then by id; by id alone without `orderBy`), at most `limit`,
 * starting after the opaque cursor `after` (the `next` of the previous page). Needs the same
 * access as `pull`. The answer also holds rows of the server's external sources, each row
 * naming its `source`.
 */
export const QueryRequestSchema = z.strictObject({
  scope: ScopeIdSchema,
  collection: CollectionNameSchema,
  where: z.array(QueryClauseSchema).max(QUERY_LIMITS.maxClauses).optional(),
  orderBy: QueryOrderSchema.optional(),
  limit: z.int().min(1).max(QUERY_LIMITS.maxPage),
  after: z.string().min(1).max(QUERY_LIMITS.maxCursorLength).optional(),
});
/** The TypeScript type of `QueryRequestSchema`. */
export type QueryRequest = z.infer<typeof QueryRequestSchema>;

/**
 * One row of a query result: a Syncline record (`source: 'syncline'`, with its version) or a
 * row of an external source (`source`: its name, `version: null`). `value` is encoded.
 */
export const QueryRowSchema = z.object({
  source: z.string(),
  id: RecordIdSchema,
  version: VersionSchema.nullable(),
  value: JsonObjectSchema,
});
/** The TypeScript type of `QueryRowSchema`. */
export type QueryRow = z.infer<typeof QueryRowSchema>;

/** Why one external source gave no rows for this page. */
export const QuerySourceErrorSchema = z.object({ source: z.string(), error: SyncErrorSchema });
/** The TypeScript type of `QuerySourceErrorSchema`. */
export type QuerySourceError = z.infer<typeof QuerySourceErrorSchema>;

/**
 * One page. `next` is the cursor of the following page (null on the last). `partial: true`
 * means a source failed or timed out (see `errors`): the page lacks its rows.
 */
export const QueryResponseSchema = okResponse({
  rows: z.array(QueryRowSchema),
  next: z.string().nullable(),
  partial: z.boolean(),
  errors: z.array(QuerySourceErrorSchema),
});
/** The TypeScript type of `QueryResponseSchema`. */
export type QueryResponse = z.infer<typeof QueryResponseSchema>;
