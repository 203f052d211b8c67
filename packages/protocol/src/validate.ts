import type * as z from 'zod';
import { syncError, type SyncError } from './error-codes.js';
import { inspectJson } from './json.js';
import { ENVELOPE_DEPTH, type Limits } from './limits.js';
import { isKeyPathError, parseKeyPath } from './key-path.js';
import { lastMidOf, MUTATION_OPS, type Mutation } from './mutation.js';
import { decodeRecordKey } from './record-key.js';
import { checkEncoded, checkEncodedRecord, isReservedKey } from './value-codec.js';
import { PushRequestSchema, type PushRequest } from './messages/push.js';

export type Validated<T> =
  { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: SyncError };

function describeIssue(issue: z.core.$ZodIssue): string {
  const path = issue.path.length > 0 ? issue.path.map(String).join('.') : '(root)';
  return `${path}: ${issue.message}`;
}

/**
 * Checks an untrusted inbound message: plain JSON within size and depth limits, no forbidden
 * keys (walked iteratively, so hostile nesting cannot overflow the stack), then the schema.
 */
export function validateMessage<S extends z.ZodType>(
  schema: S,
  raw: unknown,
  limits: Pick<Limits, 'maxPayloadBytes' | 'maxDepth'>,
): Validated<z.infer<S>> {
  const inspected = inspectJson(raw, {
    maxDepth: limits.maxDepth + ENVELOPE_DEPTH,
    maxBytes: limits.maxPayloadBytes,
  });
  if (!inspected.ok) {
    return { ok: false, error: syncError(inspected.code, `${inspected.message} at ${inspected.path}`) };
  }
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    const first = parsed.error.issues[0];
    return {
      ok: false,
      error: syncError('invalid_message', first ? describeIssue(first) : 'invalid message', {
        issues: parsed.error.issues.slice(0, 5).map(describeIssue),
      }),
    };
  }
  return { ok: true, value: parsed.data };
}

function findUnknownOp(raw: unknown): string | undefined {
  if (typeof raw !== 'object' || raw === null) return undefined;
  const list = (raw as { mutations?: unknown }).mutations;
  if (!Array.isArray(list)) return undefined;
  for (const m of list as unknown[]) {
    const op = typeof m === 'object' && m !== null ? (m as { op?: unknown }).op : undefined;
    if (typeof op === 'string' && !(MUTATION_OPS as readonly string[]).includes(op)) return op;
  }
  return undefined;
}

function checkMutation(m: Mutation, limits: Limits): SyncError | undefined {
  const paths =
    m.op === 'patch'
      ? [...Object.keys(m.patch.set ?? {}), ...(m.patch.unset ?? [])]
      : m.op === 'inc'
        ? [m.field]
        : [];
  const key = decodeRecordKey(m.id);
  if (!key.ok) return syncError('invalid_message', `mid ${m.mid}: ${key.message}`);
  for (const p of paths) {
    const segs = parseKeyPath(p);
    if (isKeyPathError(segs)) return syncError(segs.code, `mid ${m.mid}: ${segs.message}`);
    // A path through a tag could forge or break one; user keys starting with "$" travel as "$$…".
    const reserved = segs.find(isReservedKey);
    if (reserved !== undefined)
      return syncError('invalid_value', `mid ${m.mid}: key path segment "${reserved}" is reserved for tags`);
  }
  const values = m.op === 'put' ? [m.value] : m.op === 'patch' ? Object.values(m.patch.set ?? {}) : [];
  for (const v of values) {
    const r = inspectJson(v, { maxDepth: limits.maxDepth, maxBytes: limits.maxRecordBytes });
    if (!r.ok) {
      const code = r.code === 'payload_too_large' ? 'record_too_large' : r.code;
      return syncError(code, `mid ${m.mid}: ${r.message} at ${r.path}`);
    }
    const enc = m.op === 'put' ? checkEncodedRecord(m.value) : checkEncoded(v);
    if (!enc.ok) return syncError(enc.code, `mid ${m.mid}: ${enc.message} at ${enc.path}`);
  }
  return undefined;
}

/**
 * Validates a push as a whole. Any failure refuses the entire push: nothing is applied and the
 * client's `mid` does not advance. (Failures that depend on server state, such as permissions
 * or validation hooks, are per-mutation `rejected` results instead.)
 */
export function validatePushRequest(raw: unknown, limits: Limits): Validated<PushRequest> {
  const unknownOp = findUnknownOp(raw);
  if (unknownOp !== undefined) {
    return { ok: false, error: syncError('unknown_op', `unknown op "${unknownOp.slice(0, 64)}"`) };
  }
  const msg = validateMessage(PushRequestSchema, raw, limits);
  if (!msg.ok) return msg;
  const { mutations } = msg.value;
  if (mutations.length > limits.maxMutationsPerPush) {
    return {
      ok: false,
      error: syncError(
        'too_many_mutations',
        `${mutations.length} mutations; at most ${limits.maxMutationsPerPush} per push`,
      ),
    };
  }
  const closedTxns = new Set<string>();
  for (let i = 0; i < mutations.length; i++) {
    const m = mutations[i]!;
    const prev = mutations[i - 1];
    if (prev !== undefined && m.mid !== lastMidOf(prev) + 1) {
      return {
        ok: false,
        error: syncError('invalid_batch', `mids must be consecutive: ${lastMidOf(prev)} then ${m.mid}`),
      };
    }
    if (m.midTo !== undefined && m.midTo <= m.mid) {
      return {
        ok: false,
        error: syncError('invalid_batch', `mid ${m.mid}: midTo ${m.midTo} must be above mid`),
      };
    }
    if (prev?.txn !== undefined && prev.txn !== m.txn) closedTxns.add(prev.txn);
    if (m.txn !== undefined && closedTxns.has(m.txn)) {
      return { ok: false, error: syncError('invalid_batch', `txn "${m.txn}" is not contiguous in the push`) };
    }
    const bad = checkMutation(m, limits);
    if (bad) return { ok: false, error: bad };
  }
  return msg;
}
