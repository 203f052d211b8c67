import * as z from 'zod/mini';
import {
  DEFAULT_LIMITS,
  ScopeIdSchema,
  checkConfig,
  configFunction,
  configObjectWith,
  showConfigValue,
  type Limits,
} from '@syncline/protocol';
import { asClientConfigError } from './errors.js';
import type { SyncClientOptions } from './resolve-options.js';

/**
 * The schema `createSyncClient` checks its options against, so that `scope` for `scopes` or
 * `tables.cards.scpe` fails at once with the path and the allowed keys instead of a client that
 * silently never syncs. zod/mini: the client bundle already carries zod through the protocol's
 * schemas, and mini's functional API adds only the few checks used here.
 */

const fn = configFunction;
const withMethods = configObjectWith;

const count = (min: number) => z.int().check(z.minimum(min));

const serverUrl = z.string().check(
  z.regex(/^(https?|wss?):\/\/.|^\//i, {
    error: (iss) =>
      `expected a server URL such as 'https://sync.example.com' (or a path on this origin, '/'), got ${showConfigValue(iss.input)}`,
  }),
);

const TableSchema = z.strictObject({
  scope: z.union([z.string().check(z.minLength(1)), fn()], {
    error: (iss) =>
      `expected a scope string or a function (record) => scope, got ${showConfigValue(iss.input)}`,
  }),
});

const limitKeys = Object.keys(DEFAULT_LIMITS) as (keyof Limits)[];
const LimitsSchema = z.strictObject(
  Object.fromEntries(
    limitKeys.map((k) => [
      k,
      z.optional(k === 'eventsPerSecond' ? z.number().check(z.positive()) : count(1)),
    ]),
  ) as Record<keyof Limits, z.ZodMiniOptional<z.ZodMiniNumber>>,
);

/** Every option of `createSyncClient`; `satisfies` keeps it in step with `SyncClientOptions`. */
const clientShape = {
  url: z.union([serverUrl, z.array(serverUrl).check(z.minLength(1))], {
    error: (iss) => `expected a server URL or a non-empty array of them, got ${showConfigValue(iss.input)}`,
  }),
  tables: z.record(z.string(), TableSchema),
  scopes: z.array(ScopeIdSchema),
  token: z.optional(
    z.union([z.string(), fn()], {
      error: (iss) =>
        `expected a token string or a function returning one, got ${showConfigValue(iss.input)}`,
    }),
  ),
  path: z.optional(z.string().check(z.regex(/^\//, { error: "expected a path starting with '/'" }))),
  network: z.optional(withMethods('a NetworkStatus', ['isOnline', 'subscribe'])),
  visibility: z.optional(withMethods('a Visibility', ['isVisible', 'subscribe'])),
  election: z.optional(withMethods('a LeaderElection', ['campaign'])),
  now: z.optional(fn()),
  random: z.optional(fn()),
  backoff: z.optional(z.strictObject({ baseMs: count(0), capMs: count(0) })),
  limits: z.optional(LimitsSchema),
  requestTimeoutMs: z.optional(count(1)),
  pullPageSize: z.optional(count(1)),
  coalesce: z.optional(z.boolean()),
  telemetry: z.optional(
    z.union([z.boolean(), z.strictObject({ intervalMs: z.optional(count(1)) })], {
      error: (iss) => `expected true, false or { intervalMs }, got ${showConfigValue(iss.input)}`,
    }),
  ),
  leaderLease: z.optional(
    z.strictObject({ heartbeatMs: z.optional(count(1)), staleAfterMs: z.optional(count(1)) }),
  ),
} satisfies Record<keyof SyncClientOptions, z.ZodMiniType>;

export const ClientOptionsSchema = z.strictObject(clientShape);

/**
 * Throws a `SynclineError` `invalid_config` naming every bad option of `createSyncClient` (its
 * `cause`, a `SynclineConfigError`, lists them as `issues`).
 */
export function checkClientOptions(options: unknown): void {
  asClientConfigError(() => checkConfig(ClientOptionsSchema, options));
}
