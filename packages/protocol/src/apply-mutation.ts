import { cloneJson, isJsonObject, type JsonObject } from './json.js';
import { getAtPath, isKeyPathError, parseKeyPath, setAtPath, unsetAtPath } from './key-path.js';
import type { IncMutation, Mutation, Patch } from './mutation.js';

export type ApplyOutcome =
  | { readonly ok: true; readonly value: JsonObject | null }
  | {
      readonly ok: false;
      readonly code: 'not_found' | 'invalid_inc' | 'forbidden_key' | 'invalid_message';
      readonly message: string;
    };

/**
 * Applies a patch to a copy of `current`. Sets are applied in key order before unsets, so the
 * result does not depend on how the patch object was built.
 */
export function applyPatch(current: JsonObject, patch: Patch): ApplyOutcome {
  const next = cloneJson(current);
  for (const [path, value] of Object.entries(patch.set ?? {})) {
    const segs = parseKeyPath(path);
    if (isKeyPathError(segs)) return { ok: false, ...segs };
    setAtPath(next, segs, cloneJson(value));
  }
  for (const path of patch.unset ?? []) {
    const segs = parseKeyPath(path);
    if (isKeyPathError(segs)) return { ok: false, ...segs };
    unsetAtPath(next, segs);
  }
  return { ok: true, value: next };
}

/** Adds `by` to the numeric field (missing counts as 0). */
export function applyInc(current: JsonObject, m: Pick<IncMutation, 'field' | 'by'>): ApplyOutcome {
  const segs = parseKeyPath(m.field);
  if (isKeyPathError(segs)) return { ok: false, ...segs };
  const old = getAtPath(current, segs);
  if (old !== undefined && typeof old !== 'number') {
    return { ok: false, code: 'invalid_inc', message: `field "${m.field}" is not a number` };
  }
  const next = cloneJson(current);
  setAtPath(next, segs, (old ?? 0) + m.by);
  return { ok: true, value: next };
}

/**
 * The value a mutation produces on `current` (null = absent or deleted). Pure; shared by the
 * server (commit) and the client (optimistic replay). `restore` needs history and is resolved
 * by the caller into a put or delete before it gets here.
 */
export function applyMutation(
  current: JsonObject | null,
  m: Exclude<Mutation, { op: 'restore' }>,
): ApplyOutcome {
  switch (m.op) {
    case 'put':
      return { ok: true, value: cloneJson(m.value) };
    case 'delete':
      return { ok: true, value: null };
    case 'patch':
      if (!isJsonObject(current))
        return { ok: false, code: 'not_found', message: 'patch of a missing record' };
      return applyPatch(current, m.patch);
    case 'inc':
      if (!isJsonObject(current)) return { ok: false, code: 'not_found', message: 'inc of a missing record' };
      return applyInc(current, m);
  }
}
