import * as z from 'zod';
import {
  ClientIdSchema,
  CollectionNameSchema,
  MidSchema,
  RecordIdSchema,
  ScopeIdSchema,
  VersionSchema,
} from './ids.js';
import { JsonObjectSchema } from './json.js';

/**
 * One record's state at one version, as carried by pulls, broadcasts and results.
 * `value: null` is a tombstone (the record was deleted at `version`).
 */
export const ChangeSchema = z.object({
  collection: CollectionNameSchema,
  id: RecordIdSchema,
  version: VersionSchema,
  value: JsonObjectSchema.nullable(),
  /**
   * Who wrote this version, so a client recognises its own echoed writes. Server-side writes carry
   * their backend's client id; null for a change written without one.
   */
  clientId: ClientIdSchema.nullable(),
  mid: MidSchema.nullable(),
});
export type Change = z.infer<typeof ChangeSchema>;

export const RecordStateSchema = ChangeSchema.extend({ scope: ScopeIdSchema });
/** A change plus its scope: what `merged` and `conflict` results carry. */
export type RecordState = z.infer<typeof RecordStateSchema>;
