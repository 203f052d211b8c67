import {
  applyMutation,
  applyPatch,
  changedKeys,
  decodeRecord,
  encodeRecord,
  getAtPath,
  jsonEqual,
  syncError,
  type ConflictStrategy,
  type JsonObject,
  type Mutation,
  type SyncError,
} from '@syncline/protocol';
import type { CollectionConfig, ResolveContext } from './collections.js';
import { threeWayMerge } from './three-way-merge.js';

/** What to do with one mutation, decided before anything is written. */
export type Decision =
  | {
      readonly kind: 'write';
      /** The resulting value; null writes a tombstone. */
      readonly value: JsonObject | null;
      /** Set when the mutation was concurrent and auto-resolved. */
      readonly resolved?: { readonly strategy: ConflictStrategy; readonly overwritten: string[] };
    }
  /** Concurrent and auto-resolved to "keep the current record" (e.g. delete wins). */
  | { readonly kind: 'keep'; readonly strategy: ConflictStrategy }
  /** Concurrent under the manual strategy. */
  | { readonly kind: 'conflict' }
  | { readonly kind: 'reject'; readonly error: SyncError };

export interface DecideInput {
  readonly mutation: Exclude<Mutation, { op: 'restore' }>;
  readonly config: CollectionConfig;
  /** Current value (null = absent or tombstone). */
  readonly current: JsonObject | null;
  /** True when another client changed the record after the mutation's base. */
  readonly concurrent: boolean;
  /** The value at the mutation's base, when it is known (null = did not exist). */
  readonly base: JsonObject | null | undefined;
  readonly userId: string;
}

const reject = (code: Parameters<typeof syncError>[0], message: string): Decision => ({
  kind: 'reject',
  error: syncError(code, message),
});

function plain(input: DecideInput): Decision {
  const out = applyMutation(input.current, input.mutation);
  return out.ok ? { kind: 'write', value: out.value } : reject(out.code, out.message);
}

/**
 * Decides a mutation against the current record (docs/architecture.md, "Conflict strategies"): non-concurrent changes apply;
 * `inc` always merges; update-vs-delete lets delete win unless the strategy is manual or custom;
 * otherwise the collection's strategy decides.
 */
export async function decide(input: DecideInput): Promise<Decision> {
  const { mutation: m, current, config } = input;
  if (!input.concurrent) return plain(input);

  const strategy = config.strategy ?? 'merge';
  const strategyName: ConflictStrategy = typeof strategy === 'function' ? 'custom' : strategy;

  if (m.op === 'inc') {
    if (current === null) return { kind: 'keep', strategy: 'merge' };
    const out = plain(input);
    return out.kind === 'write' ? { ...out, resolved: { strategy: 'merge', overwritten: [] } } : out;
  }
  if (strategy === 'manual') return { kind: 'conflict' };
  if (typeof strategy === 'function') return resolveCustom(input, strategy);

  // Update against a concurrent delete: delete wins.
  if (current === null && m.op !== 'delete') return { kind: 'keep', strategy: strategyName };
  if (m.op === 'delete') {
    return { kind: 'write', value: null, resolved: { strategy: strategyName, overwritten: [] } };
  }
  // From here current is a live record and the op is put or patch.
  // lww is last-writer-wins per write: a put replaces the whole record, a patch replaces the
  // fields it names (so concurrent patches to different fields both survive, and counters it
  // does not name keep every increment). Overwritten: fields this write replaced that the other
  // side had changed since base (all it replaced when base is unknown).
  if (strategy === 'lww') {
    const out = plain(input);
    if (out.kind !== 'write') return out;
    const base = input.base;
    const replaced = changedKeys(current, out.value);
    const theirs = base === undefined ? replaced : changedKeys(base, current);
    const overwritten = replaced.filter((k) => theirs.includes(k));
    return { ...out, resolved: { strategy: 'lww', overwritten } };
  }
  const cur = current!;
  if (m.op === 'patch') {
    const out = applyPatch(cur, m.patch);
    if (!out.ok) return reject(out.code, out.message);
    // Key paths the patch touches that the other side had also changed since base.
    const base = input.base;
    const touched = [...Object.keys(m.patch.set ?? {}), ...(m.patch.unset ?? [])];
    const overwritten = [...new Set(touched)].filter((path) => {
      if (base === undefined) return true;
      const segs = path.split('.');
      return !jsonEqual(base === null ? undefined : getAtPath(base, segs), getAtPath(cur, segs));
    });
    return {
      kind: 'write',
      value: out.value,
      resolved: { strategy: 'merge', overwritten: overwritten.sort() },
    };
  }
  const merged = threeWayMerge(input.base ?? undefined, cur, m.value);
  return {
    kind: 'write',
    value: merged.value,
    resolved: { strategy: 'merge', overwritten: merged.overwritten },
  };
}

async function resolveCustom(
  input: DecideInput,
  resolver: Extract<CollectionConfig['strategy'], (...args: never[]) => unknown>,
): Promise<Decision> {
  const { mutation: m } = input;
  const onto = input.base === undefined ? input.current : input.base;
  const proposed = applyMutation(onto, m);
  const decoded = (v: JsonObject | null | undefined) => (v ? decodeRecord(v) : null);
  const ctx: ResolveContext = {
    scope: m.scope,
    collection: m.collection,
    id: m.id,
    base: decoded(input.base),
    current: decoded(input.current),
    incoming: decoded(proposed.ok ? proposed.value : null),
    mutation: m,
    userId: input.userId,
  };
  let decision;
  try {
    decision = await resolver(ctx);
  } catch (err) {
    return reject('validation_failed', `custom resolver failed: ${(err as Error).message}`);
  }
  switch (decision.action) {
    case 'reject':
      return reject('validation_failed', decision.message);
    case 'delete':
      return { kind: 'write', value: null, resolved: { strategy: 'custom', overwritten: [] } };
    case 'write': {
      // The resolver answers in the app's types, like the client writes them.
      const value = encodeRecord(decision.value);
      if (!value.ok)
        return reject('validation_failed', `custom resolver's value: ${value.message} at ${value.path}`);
      return {
        kind: 'write',
        value: value.value,
        resolved: { strategy: 'custom', overwritten: changedKeys(input.current, value.value) },
      };
    }
  }
}
