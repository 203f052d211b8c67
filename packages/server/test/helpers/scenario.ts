import { expect } from 'vitest';
import {
  asScopeId,
  asVersion,
  type Change,
  type ErrorCode,
  type HistoryEntry,
  type JsonObject,
  type JsonValue,
  type MutationResult,
  type MutationStatus,
  type PullResponse,
  type SyncError,
} from '@syncline/protocol';
import type { Clock } from '../../src/ops/clock.js';
import { MemoryStorage } from '../../src/storage/memory-storage.js';
import { SqliteStorage } from '../../src/storage/sqlite-storage.js';
import type { SyncServerOptions } from '../../src/create-sync-server.js';
import {
  startServer,
  TestClient,
  type MutationInput,
  type RunningServer,
} from '@syncline/test-support/server';

/** A server plus the clients a test connected to it, torn down together in `afterEach`. */
export class Env {
  #running: RunningServer | undefined;
  readonly #clients: TestClient[] = [];

  /**
   * Starts a server on memory storage, or on SQLite (`:memory:`) when the environment variable
   * `SYNCLINE_TEST_STORAGE=sqlite` is set, so the same scenarios run against both backends.
   */
  async start(opts: Partial<SyncServerOptions> = {}): Promise<RunningServer> {
    const storage =
      opts.storage ??
      (process.env.SYNCLINE_TEST_STORAGE === 'sqlite'
        ? await SqliteStorage.open({ path: ':memory:', synchronous: 'NORMAL' })
        : new MemoryStorage());
    this.#running = await startServer({ ...opts, storage });
    return this.#running;
  }

  get running(): RunningServer {
    if (!this.#running) throw new Error('server not started');
    return this.#running;
  }

  /** Connects a client; with development auth the token is the principal (user) id. */
  async connect(token?: string): Promise<TestClient> {
    const client = await TestClient.connect(this.running.url, token !== undefined ? { token } : {});
    this.#clients.push(client);
    return client;
  }

  async stop(): Promise<void> {
    for (const c of this.#clients.splice(0)) c.close();
    const running = this.#running;
    this.#running = undefined;
    await running?.stop();
  }
}

/** A clock the test moves by hand. */
export class FakeClock implements Clock {
  constructor(public t = 1_000_000) {}
  now = (): number => this.t;
  set(t: number): void {
    this.t = t;
  }
  advance(ms: number): void {
    this.t += ms;
  }
}

interface MutationOpts {
  readonly txn?: string;
}

/** Mutation builders for one collection of one scope: plain strings and numbers in, wire types out. */
export function coll(scope: string, collection: string) {
  const target = (id: string, base: number, opts: MutationOpts) => ({
    scope: asScopeId(scope),
    collection,
    id,
    base: asVersion(base),
    ...(opts.txn !== undefined ? { txn: opts.txn } : {}),
  });
  return {
    scope,
    collection,
    put: (id: string, base: number, value: JsonObject, opts: MutationOpts = {}): MutationInput => ({
      ...target(id, base, opts),
      op: 'put',
      value,
    }),
    patch: (
      id: string,
      base: number,
      set: Record<string, JsonValue>,
      opts: MutationOpts & { readonly unset?: string[] } = {},
    ): MutationInput => ({
      ...target(id, base, opts),
      op: 'patch',
      patch: {
        ...(Object.keys(set).length > 0 ? { set } : {}),
        ...(opts.unset !== undefined ? { unset: opts.unset } : {}),
      },
    }),
    delete: (id: string, base: number, opts: MutationOpts = {}): MutationInput => ({
      ...target(id, base, opts),
      op: 'delete',
    }),
    inc: (id: string, base: number, field: string, by: number, opts: MutationOpts = {}): MutationInput => ({
      ...target(id, base, opts),
      op: 'inc',
      field,
      by,
    }),
    restore: (id: string, base: number, version: number, opts: MutationOpts = {}): MutationInput => ({
      ...target(id, base, opts),
      op: 'restore',
      version: asVersion(version),
    }),
  };
}

export type ResultOf<S extends MutationStatus> = Extract<MutationResult, { status: S }>;

/** Asserts a result's status (showing the whole result on failure) and narrows it. */
export function expectStatus<S extends MutationStatus>(
  r: MutationResult | undefined,
  status: S,
): ResultOf<S> {
  expect(r?.status, `result ${JSON.stringify(r)}`).toBe(status);
  return r as ResultOf<S>;
}

/** Asserts a `rejected` result with `code` and returns its error. */
export function expectRejected(r: MutationResult | undefined, code: ErrorCode): SyncError {
  const error = expectStatus(r, 'rejected').error;
  expect(error.code, error.message).toBe(code);
  return error;
}

/** The version of an `applied` result. */
export function appliedVersion(r: MutationResult | undefined): number {
  return expectStatus(r, 'applied').version;
}

/** A record's history over the wire, newest first. */
export async function historyOf(
  client: TestClient,
  scope: string,
  collection: string,
  id: string,
  opts: { readonly before?: number; readonly limit?: number } = {},
): Promise<HistoryEntry[]> {
  const res = await client.history({
    scope,
    collection,
    id,
    ...(opts.before !== undefined ? { before: asVersion(opts.before) } : {}),
    ...(opts.limit !== undefined ? { limit: opts.limit } : {}),
  });
  if (!res.ok) throw new Error(`history failed: ${res.error.code} ${res.error.message}`);
  return res.entries;
}

export type PullPageOk = Extract<PullResponse, { ok: true }>;

/** One pull page that must succeed. */
export async function pullPage(
  client: TestClient,
  scope: string,
  after = 0,
  limit?: number,
  horizon?: number,
): Promise<PullPageOk> {
  const res = await client.pull(scope, after, limit, horizon);
  if (!res.ok) throw new Error(`pull failed: ${res.error.code} ${res.error.message}`);
  return res;
}

/** The scope's head version as the server reports it. */
export async function headOf(client: TestClient, scope: string): Promise<number> {
  return (await pullPage(client, scope, 0, 1)).head;
}

/**
 * The latest state of every record of a scope (tombstones included), keyed `collection/id`,
 * following pages from 0. Fails if a page asks for a reset, which a pull from 0 never should.
 */
export async function scopeState(client: TestClient, scope: string): Promise<Map<string, Change>> {
  const state = new Map<string, Change>();
  let after = 0;
  let horizon: number | undefined;
  for (let page = 0; page < 1000; page++) {
    const res = await pullPage(client, scope, after, 1000, horizon);
    expect(res.reset).toBe(false);
    horizon ??= res.horizon;
    for (const c of res.changes) state.set(`${c.collection}/${c.id}`, c);
    after = res.upTo;
    if (!res.hasMore) return state;
  }
  throw new Error('pull did not finish');
}

/** One record's latest state (undefined if the server has none, not even a tombstone). */
export async function recordOf(
  client: TestClient,
  scope: string,
  collection: string,
  id: string,
): Promise<Change | undefined> {
  return (await scopeState(client, scope)).get(`${collection}/${id}`);
}

/**
 * Waits until every `changes` message the server emitted to `client` before this call has
 * arrived: the server writes a broadcast to each socket before acknowledging the push that
 * caused it, and one socket delivers in order, so one acknowledged round trip is enough.
 */
export async function settle(client: TestClient): Promise<void> {
  await client.pull('sys:settle', 0, 1);
}
