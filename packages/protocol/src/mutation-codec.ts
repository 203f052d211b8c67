import type { JsonValue } from './json.js';
import type { Mutation, PatchMutation, PutMutation } from './mutation.js';
import {
  encodeKeyPath,
  encodeRecord,
  encodeValue,
  type AppObject,
  type AppValue,
  type CodecResult,
} from './value-codec.js';

/**
 * A mutation whose values are in the app's types (`Date`, `Uint8Array`, `ArrayBuffer`), as a
 * trusted in-process writer builds it; `encodeMutation` turns it into the wire `Mutation`.
 */
export type AppMutation =
  | Exclude<Mutation, PutMutation | PatchMutation>
  | (Omit<PutMutation, 'value'> & { readonly value: AppObject })
  | (Omit<PatchMutation, 'patch'> & {
      readonly patch: {
        readonly set?: Readonly<Record<string, AppValue>> | undefined;
        readonly unset?: readonly string[] | undefined;
      };
    });

/**
 * The wire form of an app mutation: values encoded, key paths (patch paths, `inc` field) with
 * their `$`-segments escaped. Refuses values that cannot be synced (see `encodeValue`). Does not
 * validate the rest: the write path does that for every push.
 */
export function encodeMutation(m: AppMutation): CodecResult<Mutation> {
  switch (m.op) {
    case 'put': {
      const value = encodeRecord(m.value);
      return value.ok ? { ok: true, value: { ...m, value: value.value } } : value;
    }
    case 'patch': {
      const set: Record<string, JsonValue> = {};
      for (const [path, v] of Object.entries(m.patch.set ?? {})) {
        const enc = encodeValue(v);
        if (!enc.ok) return { ...enc, path: `${path}${enc.path.slice(1)}` };
        set[encodeKeyPath(path)] = enc.value;
      }
      const patch = {
        ...(m.patch.set !== undefined ? { set } : {}),
        ...(m.patch.unset !== undefined ? { unset: m.patch.unset.map(encodeKeyPath) } : {}),
      };
      return { ok: true, value: { ...m, patch } };
    }
    case 'inc':
      return { ok: true, value: { ...m, field: encodeKeyPath(m.field) } };
    // Nothing to encode: no value, no key path.
    case 'delete':
    case 'restore':
      return { ok: true, value: m };
  }
}
