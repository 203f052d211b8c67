import { RecordIdSchema } from './ids.js';

/**
 * A record's key as the app's Dexie table holds it: a string, a number, or (for a compound
 * primary key) an array of those.
 */
export type RecordKey = string | number | readonly (string | number)[];

/**
 * Record ids on the wire are strings (`RecordIdSchema`). A Dexie key maps to one injectively:
 *
 * - a string is itself, unless it starts with `~`: then one more `~` (`"~x"` → `"~~x"`)
 * - a number is `~n` + its shortest round-trip text (`1` → `"~n1"`, `-2.5` → `"~n-2.5"`)
 * - a compound key is `~a` + its JSON (`["a", 1]` → `'~a["a",1]'`)
 *
 * So the string `"1"` and the number `1` are different records, and ordinary string ids
 * (UUIDs, ULIDs, nanoids) read the same everywhere. Ids starting with `~` and anything else
 * are reserved: the server refuses them.
 */
export const RECORD_KEY_SIGIL = '~';

export type RecordKeyResult<T> =
  { readonly ok: true; readonly value: T } | { readonly ok: false; readonly message: string };

const bad = (message: string): { ok: false; message: string } => ({ ok: false, message });

function isKeyPart(v: unknown): v is string | number {
  return typeof v === 'string' || (typeof v === 'number' && Number.isFinite(v));
}

/** Why a Dexie key cannot be a synced record key, or undefined when it can. */
export function recordKeyProblem(key: unknown): string | undefined {
  if (isKeyPart(key)) return undefined;
  if (typeof key === 'number') return 'a record key number must be finite';
  if (Array.isArray(key)) {
    if (key.length === 0) return 'a compound key needs at least one part';
    return key.every(isKeyPart) ? undefined : 'compound key parts must be strings or finite numbers';
  }
  const type =
    typeof key === 'object' && key !== null ? Object.prototype.toString.call(key).slice(8, -1) : typeof key;
  return `a ${type} key cannot be synced: use a string or number key`;
}

/** The record id of a Dexie key, or why it has none (a bad type, or an id the wire refuses). */
export function encodeRecordKey(key: unknown): RecordKeyResult<string> {
  const problem = recordKeyProblem(key);
  if (problem !== undefined) return bad(problem);
  const k = key as RecordKey;
  const id =
    typeof k === 'string'
      ? k.startsWith(RECORD_KEY_SIGIL)
        ? RECORD_KEY_SIGIL + k
        : k
      : typeof k === 'number'
        ? `${RECORD_KEY_SIGIL}n${String(k)}`
        : `${RECORD_KEY_SIGIL}a${JSON.stringify(k)}`;
  const parsed = RecordIdSchema.safeParse(id);
  if (!parsed.success) return bad(`invalid record id: ${parsed.error.issues[0]?.message ?? 'bad id'}`);
  return { ok: true, value: id };
}

/** The Dexie key of a record id: the inverse of `encodeRecordKey` (refuses ids it cannot produce). */
export function decodeRecordKey(id: string): RecordKeyResult<RecordKey> {
  if (!id.startsWith(RECORD_KEY_SIGIL)) return { ok: true, value: id };
  const kind = id.charAt(1);
  const body = id.slice(2);
  if (kind === RECORD_KEY_SIGIL) return { ok: true, value: id.slice(1) };
  if (kind === 'n') {
    const n = Number(body);
    // Only the canonical text, so that one key has one id.
    return body !== '' && Number.isFinite(n) && String(n) === body
      ? { ok: true, value: n }
      : bad(`"${id.slice(0, 64)}" is not a number key id`);
  }
  if (kind === 'a') {
    let parts: unknown;
    try {
      parts = JSON.parse(body);
    } catch {
      return bad(`"${id.slice(0, 64)}" is not a compound key id`);
    }
    return Array.isArray(parts) && recordKeyProblem(parts) === undefined && JSON.stringify(parts) === body
      ? { ok: true, value: parts as (string | number)[] }
      : bad(`"${id.slice(0, 64)}" is not a compound key id`);
  }
  return bad(`record ids starting with "${RECORD_KEY_SIGIL}" are reserved for number and compound keys`);
}
