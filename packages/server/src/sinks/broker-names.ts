import { createHash } from 'node:crypto';

/** Characters kept as they are in a routing-key word or subject token; all others are %XX. */
const SAFE = /^[A-Za-z0-9_:@/-]$/;

/**
 * One routing-key word / subject token from a scope or collection name: every character outside
 * `[A-Za-z0-9_:@/-]` becomes `%XX` (its UTF-8 bytes, upper-case hex). So `.` (the separator of
 * both AMQP topic keys and NATS subjects), the wildcards `*`, `#`, `>` and `%` itself never
 * appear raw, and decoding is unambiguous: `team.a` is `team%2Ea`.
 */
export function encodeToken(name: string): string {
  let out = '';
  for (const ch of name) {
    if (SAFE.test(ch)) {
      out += ch;
      continue;
    }
    for (const byte of Buffer.from(ch, 'utf8')) out += `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/** The inverse of `encodeToken`. */
export function decodeToken(token: string): string {
  return decodeURIComponent(token);
}

/** AMQP caps a routing key at 255 bytes. */
const MAX_ROUTING_KEY = 255;

/**
 * The routing key of a change: `<scope>.<collection>`, each encoded with `encodeToken`, so a
 * binding such as `team%3Aacme.*` selects one scope and `*.todos` one collection. A key that
 * would pass AMQP's 255-byte limit (only a long scope full of escaped characters can) carries
 * `%H` and the SHA-256 of the scope instead of the scope; the message headers keep the scope.
 */
export function routingKey(scope: string, collection: string): string {
  const key = `${encodeToken(scope)}.${encodeToken(collection)}`;
  if (Buffer.byteLength(key) <= MAX_ROUTING_KEY) return key;
  return `%H${createHash('sha256').update(scope).digest('hex')}.${encodeToken(collection)}`;
}

/** The subject of a change: `<prefix>.<scope>.<collection>`, tokens encoded with `encodeToken`. */
export function natsSubject(prefix: string, scope: string, collection: string): string {
  return `${prefix}.${encodeToken(scope)}.${encodeToken(collection)}`;
}

/** The id brokers deduplicate on: one per (scope, version). */
export function messageId(scope: string, version: number): string {
  return `${scope}:${version}`;
}
