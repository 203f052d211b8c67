import * as z from 'zod';
import {
  CollectionNameSchema,
  DEFAULT_LIMITS,
  checkConfig,
  configFunction,
  configObjectWith,
  showConfigValue,
  type Limits,
} from '@syncline/protocol';
import type { SyncServerOptions } from './sync-server.js';

/**
 * The schema `createSyncServer` and `loadConfig` check options against, so that a typo
 * (`strategy: 'lwww'`, `colections`) stops the server at start with the path and the allowed
 * values instead of silently running with a default. Functions and objects the server only
 * calls (hooks, storage, logger) are checked for the methods it calls.
 */

const fn = configFunction;
const withMethods = configObjectWith;

const count = (min: number) => z.int().min(min);
const ms = count(0);

const StrategySchema = z.union([z.enum(['merge', 'lww', 'manual']), fn()], {
  error: (iss) =>
    `expected one of 'merge' | 'lww' | 'manual' | a function, got ${showConfigValue(iss.input)}`,
});

const WebhookSchema = z.strictObject({
  url: z
    .string()
    .regex(/^https?:\/\/./, { error: (iss) => `expected an http(s) URL, got ${showConfigValue(iss.input)}` }),
  secret: z.string().min(1),
  maxAttempts: count(1).optional(),
  retryDelayMs: ms.optional(),
  maxDelayMs: ms.optional(),
  timeoutMs: count(1).optional(),
  from: z.enum(['start', 'now']).optional(),
  maxQueue: count(1).optional(),
});

const sinkName = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, {
  error: (iss) => `expected 1-64 characters of [A-Za-z0-9_-], got ${showConfigValue(iss.input)}`,
});
const sinkCommon = {
  name: sinkName,
  from: z.enum(['start', 'now']).optional(),
  transform: z.optional(fn()),
  batchSize: count(1).optional(),
  retryMinMs: count(1).optional(),
  retryMaxMs: count(1).optional(),
};
const url = (schemes: string) =>
  z.string().regex(new RegExp(`^(${schemes})://[^\\s]+$`), {
    error: (iss) =>
      `expected a URL with scheme ${schemes.replace('|', ' or ')}, got ${showConfigValue(iss.input)}`,
  });
/** A JetStream stream name: no `.`, `*`, `>`, `/`, `\\` or whitespace. */
const streamName = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, {
  error: (iss) => `expected 1-64 characters of [A-Za-z0-9_-], got ${showConfigValue(iss.input)}`,
});
/** Subject tokens without wildcards: `syncline.changes`. */
const subjectPrefix = z.string().regex(/^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/, {
  error: (iss) =>
    `expected dot-separated tokens of [A-Za-z0-9_-] (no wildcards), got ${showConfigValue(iss.input)}`,
});

const SinkSchema = z.discriminatedUnion(
  'kind',
  [
    z.strictObject({
      ...sinkCommon,
      kind: z.literal('rabbitmq'),
      url: url('amqp|amqps'),
      exchange: z.string().min(1).max(255),
    }),
    z.strictObject({
      ...sinkCommon,
      kind: z.literal('nats'),
      servers: z.union([url('nats|tls'), z.array(url('nats|tls')).min(1)]),
      stream: streamName,
      subjectPrefix,
    }),
  ],
  {
    error: (iss) =>
      iss.code === 'invalid_union'
        ? `expected kind 'rabbitmq' or 'nats', got ${showConfigValue((iss.input as { kind?: unknown } | undefined)?.kind)}`
        : undefined,
  },
);

const SinksSchema = z.array(SinkSchema).superRefine((sinks, ctx) => {
  const seen = new Set<string>();
  sinks.forEach((sink, i) => {
    if (seen.has(sink.name)) {
      ctx.addIssue({ code: 'custom', path: [i, 'name'], message: `sink name '${sink.name}' is used twice` });
    }
    seen.add(sink.name);
  });
});

const CollectionSchema = z.strictObject({
  strategy: StrategySchema.optional(),
  validate: z.optional(fn()),
  webhook: WebhookSchema.optional(),
});

const AuthSchema = z.union(
  [
    z.literal('development'),
    z.object({ authenticate: fn(), authorize: fn() }), // may carry more (a class instance)
  ],
  {
    error: (iss) =>
      `expected 'development' or { authenticate, authorize } functions, got ${showConfigValue(iss.input)}`,
  },
);

const limitKeys = Object.keys(DEFAULT_LIMITS) as (keyof Limits)[];
const LimitsSchema = z.strictObject(
  Object.fromEntries(
    limitKeys.map((k) => [k, (k === 'eventsPerSecond' ? z.number().positive() : count(1)).optional()]),
  ) as Record<keyof Limits, z.ZodOptional<z.ZodNumber>>,
);

const RateBudgetSchema = z.union(
  [z.literal(false), z.strictObject({ points: count(1), seconds: count(1) })],
  {
    error: (iss) =>
      `expected { points, seconds } (whole numbers, at least 1) or false, got ${showConfigValue(iss.input)}`,
  },
);

const BudgetsSchema = z.strictObject({
  connectionsPerAddress: RateBudgetSchema.optional(),
  connectionsPerPrincipal: RateBudgetSchema.optional(),
  eventsPerPrincipal: RateBudgetSchema.optional(),
  trustProxy: z.boolean().optional(),
  redis: z.optional(withMethods('a node-redis client', ['sendCommand'])),
  redisKeyPrefix: z.string().min(1).optional(),
});

const QuerySourceSchema = z.strictObject({
  collections: z.array(CollectionNameSchema).optional(),
  timeoutMs: count(1).optional(),
  query: fn(),
  // `sqliteQuerySource` returns one with the `close` of its connection (the app calls it).
  close: z.optional(fn()),
});

const QueryOptionsSchema = z.strictObject({
  maxScanRecords: count(1).optional(),
  // Source names label rows and errors; `syncline` names Syncline's own rows.
  sources: z
    .record(
      z.string().regex(/^(?!syncline$)[a-z][a-z0-9_-]{0,62}$/i, {
        error: (iss) =>
          `expected a source name (a letter, then letters, digits, _ or -; not 'syncline'), got ${showConfigValue(iss.input)}`,
      }),
      QuerySourceSchema,
    )
    .optional(),
});

const origin = z.string().refine((s) => s === '*' || /^[a-z][a-z0-9+.-]*:\/\/[^/?#]+$/i.test(s), {
  error: (iss) =>
    `expected an origin such as 'https://app.example.com' or 'http://localhost:5173' (scheme://host[:port], no path), or '*', got ${showConfigValue(iss.input)}`,
});

/** Every option of `createSyncServer`; `satisfies` keeps it in step with `SyncServerOptions`. */
const serverShape = {
  storage: withMethods('a SyncStorage', ['transaction', 'ping', 'prune', 'close']),
  auth: AuthSchema,
  collections: z.record(CollectionNameSchema, CollectionSchema).optional(),
  limits: LimitsSchema.optional(),
  retention: z
    .strictObject({
      keepVersions: count(0).optional(),
      maxAgeMs: ms.optional(),
      intervalMs: count(1).optional(),
    })
    .optional(),
  cors: z.strictObject({ origins: z.array(origin) }).optional(),
  httpServer: z.optional(withMethods('a node:http Server', ['listen', 'on'])),
  path: z
    .string()
    .regex(/^\//, { error: (iss) => `expected a path starting with '/', got ${showConfigValue(iss.input)}` })
    .optional(),
  clock: z.optional(withMethods('a Clock', ['now'])),
  timers: z.optional(withMethods('Timers', ['setTimeout', 'clearTimeout'])),
  logger: z.optional(withMethods('a Logger', ['debug', 'info', 'warn', 'error'])),
  nodeId: z.string().min(1).optional(),
  metrics: z
    .union([
      z.literal(false),
      z.strictObject({ token: z.string().min(1).optional(), defaultMetrics: z.boolean().optional() }),
    ])
    .optional(),
  changeFeed: z
    .strictObject({ pollIntervalMs: count(1).optional(), heartbeatMs: count(1).optional() })
    .optional(),
  telemetry: z.strictObject({ minIntervalMs: ms.optional() }).optional(),
  presence: z
    .strictObject({ refreshMs: count(1).optional(), ttlMs: count(1).optional() })
    .refine((p) => (p.ttlMs ?? 5000) > (p.refreshMs ?? 2000), 'ttlMs must exceed refreshMs')
    .optional(),
  readinessChecks: z.record(z.string(), fn()).optional(),
  cluster: z.optional(withMethods('a ClusterFanout', ['ready', 'onReconnect', 'close'])),
  sinks: SinksSchema.optional(),
  webhooks: z.strictObject({ fetch: z.optional(fn()), random: z.optional(fn()) }).optional(),
  allowInsecureDevAuth: z.boolean().optional(),
  budgets: BudgetsSchema.optional(),
  query: QueryOptionsSchema.optional(),
} satisfies Record<keyof SyncServerOptions, z.core.$ZodType>;

export const ServerOptionsSchema = z.strictObject(serverShape);

/** The keys a `--config` module may set; storage, logging and networking come from the CLI. */
export const CONFIG_FILE_KEYS = [
  'auth',
  'collections',
  'limits',
  'retention',
  'cors',
  'path',
  'nodeId',
  'metrics',
  'changeFeed',
  'telemetry',
  'presence',
  'readinessChecks',
  'budgets',
  'query',
  'sinks',
] as const satisfies readonly (keyof SyncServerOptions)[];

export const ConfigFileSchema = z.strictObject(
  Object.fromEntries(CONFIG_FILE_KEYS.map((k) => [k, serverShape[k].optional()])) as {
    [K in (typeof CONFIG_FILE_KEYS)[number]]: z.ZodOptional<(typeof serverShape)[K]>;
  },
);

/** Throws `SynclineConfigError` naming every bad option of `createSyncServer`. */
export function checkServerOptions(options: unknown): void {
  checkConfig(ServerOptionsSchema, options);
}
