import * as z from 'zod';

/**
 * Branded identifiers. They are plain strings/numbers on the wire; the brand only stops a
 * `Version` from being passed where a `Mid` is expected at compile time.
 */

/** A client installation's id: chosen by the client, bound to one principal by the server. */
export const ClientIdSchema = z
  .string()
  .regex(/^[A-Za-z0-9_-]{8,64}$/, 'client id must be 8-64 characters of [A-Za-z0-9_-]')
  .brand<'ClientId'>();
export type ClientId = z.infer<typeof ClientIdSchema>;

/** A scope such as `team:acme` or `user:42`: the unit of subscription, auth and ordering. */
export const ScopeIdSchema = z
  .string()
  .regex(/^[A-Za-z0-9_.:@/-]{1,128}$/, 'scope must be 1-128 characters of [A-Za-z0-9_.:@/-]')
  .brand<'ScopeId'>();
export type ScopeId = z.infer<typeof ScopeIdSchema>;

/** A collection (table) name. */
export const CollectionNameSchema = z
  .string()
  .regex(/^[A-Za-z_][A-Za-z0-9_.-]{0,63}$/, 'collection must match [A-Za-z_][A-Za-z0-9_.-]{0,63}');
export type CollectionName = z.infer<typeof CollectionNameSchema>;

/** A UTF-16 surrogate without its partner: not a character, and not storable as UTF-8 text. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/**
 * A record id inside a collection: 1–256 characters of well-formed Unicode without NUL, the
 * strings every storage backend keeps exactly (PostgreSQL `text` refuses NUL, and UTF-8 cannot
 * encode a lone surrogate).
 */
export const RecordIdSchema = z
  .string()
  .min(1)
  .max(256)
  .refine((s) => !s.includes('\u0000') && !LONE_SURROGATE.test(s), {
    message: 'record id must be well-formed Unicode without NUL characters',
  });
export type RecordId = z.infer<typeof RecordIdSchema>;

/** A per-scope version: 0 means "did not exist"; every committed change gets the next one. */
export const VersionSchema = z.int().min(0).max(Number.MAX_SAFE_INTEGER).brand<'Version'>();
export type Version = z.infer<typeof VersionSchema>;

/** A mutation id: dense, strictly increasing per client id, starting at 1. */
export const MidSchema = z.int().min(1).max(Number.MAX_SAFE_INTEGER).brand<'Mid'>();
export type Mid = z.infer<typeof MidSchema>;

/** A transaction id shared by mutations that commit all-or-nothing. */
export const TxnIdSchema = z.string().min(1).max(64);

/** Casts for trusted sources (storage rows, counters); never for wire input. */
export const asVersion = (n: number): Version => n as Version;
export const asMid = (n: number): Mid => n as Mid;
export const asClientId = (s: string): ClientId => s as ClientId;
export const asScopeId = (s: string): ScopeId => s as ScopeId;
