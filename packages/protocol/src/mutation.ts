import * as z from 'zod';
import {
  CollectionNameSchema,
  MidSchema,
  RecordIdSchema,
  ScopeIdSchema,
  TxnIdSchema,
  VersionSchema,
  type Mid,
} from './ids.js';
import { JsonObjectSchema, JsonValueSchema } from './json.js';

/** Every mutation op. `restore` re-applies a version from the record's history as a new change. */
export const MUTATION_OPS = ['put', 'patch', 'delete', 'inc', 'restore'] as const;
export type MutationOp = (typeof MUTATION_OPS)[number];

const base = {
  /** Dense, strictly increasing per client id. */
  mid: MidSchema,
  scope: ScopeIdSchema,
  collection: CollectionNameSchema,
  id: RecordIdSchema,
  /** The record version this change was made on (0 = the client saw no record). */
  base: VersionSchema,
  /** Mutations sharing a txn id commit all-or-nothing; they travel contiguously in one push. */
  txn: TxnIdSchema.optional(),
  /**
   * Protocol 5: the last mid this mutation covers, when the client coalesced the consecutive
   * mutations `mid … midTo` of one record into it (absent: it covers `mid` alone). The server
   * treats it as all of those mids at once: one result, one version, duplicate only when
   * `midTo` was already applied.
   */
  midTo: MidSchema.optional(),
};

/** Create or replace the whole record. */
export const PutMutationSchema = z.strictObject({ ...base, op: z.literal('put'), value: JsonObjectSchema });

/** Set and/or unset fields by key path (Dexie `update`/`modify`). */
export const PatchSchema = z
  .strictObject({
    set: z.record(z.string(), JsonValueSchema).optional(),
    unset: z.array(z.string()).max(1024).optional(),
  })
  .refine(
    (p) => Object.keys(p.set ?? {}).length + (p.unset?.length ?? 0) > 0,
    'a patch must set or unset at least one field',
  );
export type Patch = z.infer<typeof PatchSchema>;
export const PatchMutationSchema = z.strictObject({ ...base, op: z.literal('patch'), patch: PatchSchema });

/** Tombstone the record. */
export const DeleteMutationSchema = z.strictObject({ ...base, op: z.literal('delete') });

/** Add `by` to the numeric field at `field`: commutes, never conflicts. */
export const IncMutationSchema = z.strictObject({
  ...base,
  op: z.literal('inc'),
  field: z.string().min(1).max(1024),
  by: z.number().refine(Number.isFinite, 'by must be finite'),
});

/** Write the value the record had at `version` as a new change (history is never rewritten). */
export const RestoreMutationSchema = z.strictObject({
  ...base,
  op: z.literal('restore'),
  version: VersionSchema.refine((v) => v >= 1, 'version must be ≥ 1'),
});

export const MutationSchema = z.discriminatedUnion('op', [
  PutMutationSchema,
  PatchMutationSchema,
  DeleteMutationSchema,
  IncMutationSchema,
  RestoreMutationSchema,
]);

export type PutMutation = z.infer<typeof PutMutationSchema>;
export type PatchMutation = z.infer<typeof PatchMutationSchema>;
export type DeleteMutation = z.infer<typeof DeleteMutationSchema>;
export type IncMutation = z.infer<typeof IncMutationSchema>;
export type RestoreMutation = z.infer<typeof RestoreMutationSchema>;
export type Mutation = z.infer<typeof MutationSchema>;

/** The last mid a mutation covers: `midTo` when it coalesces several, else `mid`. */
export function lastMidOf(m: Pick<Mutation, 'mid' | 'midTo'>): Mid {
  return m.midTo ?? m.mid;
}
