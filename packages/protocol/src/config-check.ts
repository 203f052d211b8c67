import * as z from 'zod/mini';
import { safeParse, type $ZodIssue, type $ZodRawIssue, type $ZodType } from 'zod/v4/core';

/** One refused setting: where it is (`collections.cards.strategy`) and what is wrong with it. */
export interface ConfigIssue {
  readonly path: string;
  readonly message: string;
}

/**
 * Options or a config module that do not match their schema. `message` names every bad path:
 * `invalid_config: collections.cards.strategy: expected one of 'merge' | 'lww' | 'manual' |
 * a function, got 'lwww'`. Thrown at start, before anything is opened or listened on.
 */
export class SynclineConfigError extends Error {
  readonly code = 'invalid_config' as const;
  readonly retryable = false;
  constructor(
    readonly issues: readonly ConfigIssue[],
    /** What was checked, e.g. the config file's path; part of the message when given. */
    readonly source?: string,
  ) {
    const where = source === undefined ? '' : `${source}: `;
    super(`invalid_config: ${where}${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`);
    this.name = 'SynclineConfigError';
  }
}

/**
 * Checks `value` against a zod (or zod/mini) schema and throws a `SynclineConfigError` naming
 * every bad path. The value itself is not transformed: callers keep using their own object, so
 * functions and class instances pass through untouched.
 */
export function checkConfig(schema: $ZodType, value: unknown, source?: string): void {
  const result = safeParse(schema, value, { error: describeIssue });
  if (!result.success) throw new SynclineConfigError(configIssues(result.error.issues), source);
}

/** Flattens zod issues into one line per bad path. */
export function configIssues(
  issues: readonly $ZodIssue[],
  prefix: readonly PropertyKey[] = [],
): ConfigIssue[] {
  const out: ConfigIssue[] = [];
  for (const issue of issues) {
    const path = [...prefix, ...issue.path];
    if (issue.code === 'unrecognized_keys') {
      // describeIssue put the allowed keys into the message (see there).
      const allowed = issue.message === '' ? [] : issue.message.split(', ');
      for (const key of issue.keys) {
        const hint = closest(key, allowed);
        out.push({
          path: formatPath([...path, key]),
          message:
            `unknown option${hint === undefined ? '' : ` (did you mean '${hint}'?)`}; ` +
            (allowed.length === 0 ? 'none are allowed here' : `allowed: ${allowed.join(', ')}`),
        });
      }
      continue;
    }
    if (issue.code === 'invalid_union' && issue.errors.length > 0) {
      // An option that matched the value's shape and failed deeper says more than the union.
      const deeper = issue.errors.filter((errs) => errs.length > 0 && errs.every((e) => e.path.length > 0));
      if (deeper.length === 1) {
        out.push(...configIssues(deeper[0]!, path));
        continue;
      }
    }
    out.push({ path: formatPath(path), message: issue.message });
  }
  return out;
}

/** The message of one issue, from the raw issue (which still has the input and the schema). */
function describeIssue(issue: $ZodRawIssue): string | undefined {
  switch (issue.code) {
    case 'unrecognized_keys': {
      const shape = (issue.inst as { _zod?: { def?: { shape?: object } } } | undefined)?._zod?.def?.shape;
      return shape === undefined ? '' : Object.keys(shape).join(', ');
    }
    case 'invalid_type':
      return issue.input === undefined
        ? `required (${TYPE_NAMES[issue.expected] ?? issue.expected})`
        : `expected ${TYPE_NAMES[issue.expected] ?? issue.expected}, got ${showConfigValue(issue.input)}`;
    case 'invalid_key':
      return `invalid key: ${issue.issues.map((i) => i.message).join('; ')}`;
    case 'invalid_value':
      return `expected ${issue.values.map(showConfigValue).join(' | ')}, got ${showConfigValue(issue.input)}`;
    case 'too_small':
      return `expected ${issue.origin === 'array' || issue.origin === 'string' ? 'length ' : ''}${issue.inclusive === false ? '>' : '≥'} ${String(issue.minimum)}, got ${showConfigValue(issue.input)}`;
    case 'too_big':
      return `expected ${issue.origin === 'array' || issue.origin === 'string' ? 'length ' : ''}${issue.inclusive === false ? '<' : '≤'} ${String(issue.maximum)}, got ${showConfigValue(issue.input)}`;
    case 'invalid_union':
      return `got ${showConfigValue(issue.input)}`;
    // zod's own message says it (and a config schema raises none of these today).
    case 'custom':
    case 'invalid_element':
    case 'invalid_format':
    case 'not_multiple_of':
      return undefined;
  }
}

const TYPE_NAMES: Readonly<Record<string, string>> = {
  int: 'an integer',
  number: 'a number',
  string: 'a string',
  boolean: 'true or false',
  object: 'an object',
  array: 'an array',
  function: 'a function',
};

/** A value as it would be written in a config file, shortened (for messages). */
export function showConfigValue(value: unknown): string {
  if (typeof value === 'string') return `'${value.length > 60 ? `${value.slice(0, 60)}…` : value}'`;
  if (typeof value === 'function') return 'a function';
  if (Array.isArray(value)) return 'an array';
  if (value === null) return 'null';
  if (typeof value === 'object') return 'an object';
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint')
    return String(value);
  return value === undefined ? 'nothing' : typeof value;
}

function formatPath(path: readonly PropertyKey[]): string {
  if (path.length === 0) return 'options';
  return path
    .map((k, i) =>
      typeof k === 'number'
        ? `[${k}]`
        : i === 0
          ? String(k)
          : /^[A-Za-z_$][\w$]*$/.test(String(k))
            ? `.${String(k)}`
            : `[${JSON.stringify(String(k))}]`,
    )
    .join('');
}

/** The allowed key a misspelt one most likely meant (edit distance ≤ 2), if any. */
function closest(key: string, allowed: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = 3;
  for (const candidate of allowed) {
    const [k, c] = [key.toLowerCase(), candidate.toLowerCase()];
    // A cut-short name (`maxPayload` for `maxPayloadBytes`) counts as a near miss.
    const d = k.length >= 4 && (c.startsWith(k) || k.startsWith(c)) ? 1 : distance(k, c);
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  return best;
}

function distance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      row.push(Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1)));
    }
    prev = row;
  }
  return prev[b.length]!;
}

/**
 * A config value that must be a function (a hook, a clock, a strategy). Built on `zod/mini`, whose
 * schemas share zod's core: the client's mini schemas and the server's classic ones both embed it.
 */
export function configFunction() {
  return z.custom<unknown>((v) => typeof v === 'function', {
    error: (iss) =>
      iss.input === undefined
        ? 'required (a function)'
        : `expected a function, got ${showConfigValue(iss.input)}`,
  });
}

/** A config value that must be an object with these methods (a class instance is fine). */
export function configObjectWith(what: string, methods: readonly string[]) {
  return z.custom<unknown>(
    (v) =>
      typeof v === 'object' &&
      v !== null &&
      methods.every((m) => typeof (v as Record<string, unknown>)[m] === 'function'),
    {
      error: (iss) =>
        `expected ${what} (an object with ${methods.join(', ')}), got ${showConfigValue(iss.input)}`,
    },
  );
}
