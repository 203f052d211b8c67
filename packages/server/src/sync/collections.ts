import type { JsonObject, Mutation, ScopeId } from '@syncline/protocol';

/**
 * What a custom resolver sees when a mutation is concurrent with another client's change.
 * `null` values mean "absent or deleted".
 */
export interface ResolveContext {
  readonly scope: ScopeId;
  readonly collection: string;
  readonly id: string;
  /** The value at the version the client based its change on, if still in history. */
  readonly base: JsonObject | null;
  /** The current server value. */
  readonly current: JsonObject | null;
  /** What the client meant: its mutation applied to `base` (or to `current` if base is unknown). */
  readonly incoming: JsonObject | null;
  readonly mutation: Mutation;
  readonly userId: string;
}

export type ResolveDecision =
  | { readonly action: 'write'; readonly value: JsonObject }
  | { readonly action: 'delete' }
  | { readonly action: 'reject'; readonly message: string };

/** A server function deciding concurrent changes: `(base, current, incoming) → value or reject`. */
export type CustomResolver = (ctx: ResolveContext) => ResolveDecision | Promise<ResolveDecision>;

export interface ValidateContext {
  readonly scope: ScopeId;
  readonly collection: string;
  readonly id: string;
  readonly userId: string;
  readonly previous: JsonObject | null;
}

/** Returns a message to refuse the value, or undefined to accept it. */
export type Validator = (
  value: JsonObject,
  ctx: ValidateContext,
) => string | undefined | Promise<string | undefined>;

/** Per-collection server configuration. */
export interface CollectionConfig {
  /**
   * How concurrent changes are resolved: `merge` (default, field-level three-way), `lww`
   * (later arrival replaces), `manual` (refused as a conflict for the user to resolve), or a
   * custom resolver function.
   */
  readonly strategy?: 'merge' | 'lww' | 'manual' | CustomResolver;
  /** Runs on every value about to be written (deletes excepted); can refuse it. */
  readonly validate?: Validator;
}

export type CollectionsConfig = Readonly<Record<string, CollectionConfig>>;
