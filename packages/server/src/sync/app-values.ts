import {
  decodeRecord,
  encodeMutation,
  syncError,
  type AppMutation,
  type AppObject,
  type FeedChange,
  type Mutation,
  type Validated,
} from '@syncline/protocol';

/**
 * A change of the Node change feed (`SyncServer.changes`): the wire `FeedChange` with its value
 * decoded into the app's types (`Date`, `Uint8Array`, `ArrayBuffer`). The HTTP feed and webhooks
 * carry the wire encoding instead (see `docs/values-and-keys.md`).
 */
export type AppFeedChange = Omit<FeedChange, 'value'> & { readonly value: AppObject | null };

export function decodeFeedChange(change: FeedChange): AppFeedChange {
  return { ...change, value: change.value === null ? null : decodeRecord(change.value) };
}

/**
 * The wire form of an in-process backend's mutations (`SyncServer.applyMutations`), whose values
 * are in the app's types. A value that cannot be synced refuses the whole request, as an invalid
 * push would be: nothing is applied.
 */
export function encodeAppMutations(mutations: readonly AppMutation[]): Validated<Mutation[]> {
  const out: Mutation[] = [];
  for (let i = 0; i < mutations.length; i++) {
    const r = encodeMutation(mutations[i]!);
    if (!r.ok) return { ok: false, error: syncError(r.code, `mutations[${i}]: ${r.message} at ${r.path}`) };
    out.push(r.value);
  }
  return { ok: true, value: out };
}
