import type { AppObject, Mutation, ScopeId } from '@syncline/protocol';

/**
 * What a custom resolver sees when a mutation is concurrent with another client's change.
 * `null` values mean "absent or deleted". Values are decoded (`Date`, `Uint8Array`,
 * `ArrayBuffer` as the app wrote them); `mutation` is as it travelled, in the wire encoding.
 */
export interface ResolveContext {
  readonly scope: ScopeId;
  readonly collection: string;
  readonly id: string;
  /** The value at the version the client based its change on, if still in history. */
  readonly base: AppObject | null;
  /** The current server value. */
  readonly current: AppObject | null;
  /** What the client meant: its mutation applied to `base` (or to `current` if base is unknown). */
  readonly incoming: AppObject | null;
  readonly mutation: Mutation;
  readonly userId: string;
}

export type ResolveDecision =
  | { readonly action: 'write'; readonly value: AppObject }
  | { readonly action: 'delete' }
  | { readonly action: 'reject'; readonly message: string };

/** A server function deciding concurrent changes: `(base, current, incoming) → value or reject`. */
export type CustomResolver = (ctx: ResolveContext) => ResolveDecision | Promise<ResolveDecision>;

export interface ValidateContext {
  readonly scope: ScopeId;
  readonly collection: string;
  readonly id: string;
  readonly userId: string;
  readonly previous: AppObject | null;
}

/** Returns a message to refuse the value, or undefined to accept it. Values are decoded. */
export type Validator = (
  value: AppObject,
  ctx: ValidateContext,
) => string | undefined | Promise<string | undefined>;

/**
 * Where to POST each committed change of a collection (see README, Webhooks). Delivery is
 * at-least-once, restarts and crashes included (a stored cursor per scope, like a broker
 * sink's), in version order per scope, with retries, by one node of a cluster at a time;
 * receivers deduplicate by `(scope, version)` (the `idempotency-key` header).
 */
export interface WebhookConfig {
  /** The receiver (http or https). */
  readonly url: string;
  /** Shared secret of the `syncline-signature` HMAC-SHA256 header. */
  readonly secret: string;
  /** Attempts per change before giving up on it (default 12). */
  readonly maxAttempts?: number;
  /** Delay before the first retry (default 1000 ms); it doubles per attempt up to `maxDelayMs`. */
  readonly retryDelayMs?: number;
  /** Cap of the retry delay (default 300 000 ms). */
  readonly maxDelayMs?: number;
  /** Per-attempt timeout (default 10 000 ms). */
  readonly timeoutMs?: number;
  /**
   * Where the webhook starts the first time it runs (default `'now'`: changes committed from
   * then on; `'start'`: the retained history too). Afterwards it resumes from its cursors.
   */
  readonly from?: 'start' | 'now';
  /**
   * @deprecated Accepted and ignored: undelivered changes wait in storage (the history), not in
   * a bounded memory queue, so none is dropped.
   */
  readonly maxQueue?: number;
}

/** Per-collection server configuration. */
export interface CollectionConfig {
  /**
   * How concurrent changes are resolved: `merge` (default, field-level three-way), `lww`
   * (the later arrival wins for what it wrote: a put replaces the record, a patch the fields it
   * names), `manual` (refused as a conflict for the user to resolve), or a
   * custom resolver function.
   */
  readonly strategy?: 'merge' | 'lww' | 'manual' | CustomResolver;
  /** Runs on every value about to be written (deletes excepted); can refuse it. */
  readonly validate?: Validator;
  /** POST every committed change of this collection to a URL. */
  readonly webhook?: WebhookConfig;
}

export type CollectionsConfig = Readonly<Record<string, CollectionConfig>>;

/** What an unconfigured collection uses: no prototype, so no inherited member reads as an option. */
const NO_CONFIG: CollectionConfig = Object.freeze(Object.create(null) as CollectionConfig);

/**
 * The configuration of a collection named on the wire (the default when it has none). Own
 * properties only: a name like `constructor`, `toString` or `__proto__` is an ordinary
 * collection and never resolves to a member of `Object.prototype`.
 */
export function collectionConfig(collections: CollectionsConfig, name: string): CollectionConfig {
  return (Object.hasOwn(collections, name) ? collections[name] : undefined) ?? NO_CONFIG;
}
