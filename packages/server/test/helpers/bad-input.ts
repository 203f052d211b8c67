import { expect } from 'vitest';
import {
  ERROR_CODES,
  ErrorResponseSchema,
  PushResponseSchema,
  asClientId,
  asScopeId,
  type ErrorCode,
  type JsonObject,
  type MutationResult,
  type SyncError,
} from '@syncline/protocol';
import type { SyncStorage } from '../../src/storage/storage.js';
import { TestClient, type RunningServer, type TestSocket } from '@syncline/test-support/server';

/** Asserts an `{ ok: false, error }` reply with `code`, whose `retryable` flag agrees with `ERROR_CODES`. */
export function expectError(res: unknown, code: ErrorCode): SyncError {
  const parsed = ErrorResponseSchema.safeParse(res);
  if (!parsed.success) {
    throw new Error(`expected an error reply with ${code}, got ${JSON.stringify(res)?.slice(0, 500)}`);
  }
  const { error } = parsed.data;
  expect(error.code, error.message).toBe(code);
  expect(error.retryable).toBe(ERROR_CODES[code].retryable);
  expect(error.message.length).toBeGreaterThan(0);
  return error;
}

/** Asserts a successful push reply and returns its results. */
export function expectResults(res: unknown): MutationResult[] {
  const parsed = PushResponseSchema.safeParse(res);
  if (!parsed.success || !parsed.data.ok) {
    throw new Error(`expected a successful push, got ${JSON.stringify(res)?.slice(0, 500)}`);
  }
  return parsed.data.results;
}

/** A plain (unbranded) put mutation, as it travels on the wire. */
export function putMutation(mid: number, scope: string, id: string, value: unknown, collection = 'notes') {
  return { mid, scope, collection, id, op: 'put', base: 0, value };
}

/** Pushes anything at all as `{ mutations }` and returns the raw reply. */
export function pushRaw(client: TestClient, mutations: unknown[]): Promise<unknown> {
  return client.raw('push', { mutations });
}

/** Emits an event with exactly these arguments (no acknowledgement unless one is passed). */
export function emitRaw(socket: TestSocket, event: string, ...args: unknown[]): void {
  (socket as unknown as { emit(e: string, ...a: unknown[]): void }).emit(event, ...args);
}

let rawAckId = 900_000;

/**
 * Emits `event` with one argument given as JSON text, written straight to the Engine.IO
 * connection as a Socket.IO EVENT packet with an ack id, and resolves with the server's ack.
 * This bypasses socket.io-client's encoder, whose recursive binary check cannot walk hostile
 * nesting (10,000 levels overflow the client's stack before anything is sent).
 */
export function emitJsonText(client: TestClient, event: string, argJson: string): Promise<unknown> {
  const engine = client.socket.io.engine;
  const id = ++rawAckId;
  const prefix = `3${id}[`;
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      engine.off('message', onMessage);
      reject(new Error(`no ack for raw "${event}" packet`));
    }, 10_000);
    const onMessage = (data: unknown) => {
      if (typeof data !== 'string' || !data.startsWith(prefix)) return;
      clearTimeout(timer);
      engine.off('message', onMessage);
      resolve((JSON.parse(data.slice(prefix.length - 1)) as unknown[])[0]);
    };
    engine.on('message', onMessage);
    engine.write(`2${id}[${JSON.stringify(event)},${argJson}]`);
  });
}

/** JSON text of an object (`{"a":{"a":…{}}}`) or array (`[[…[]]]`) nested `depth` levels, built iteratively. */
export function deepJsonText(depth: number, kind: 'object' | 'array'): string {
  return kind === 'object'
    ? `${'{"a":'.repeat(depth - 1)}{}${'}'.repeat(depth - 1)}`
    : `${'['.repeat(depth)}${']'.repeat(depth)}`;
}

/** An object nested `depth` levels deep (`{}` is depth 1), built without recursion. */
export function nestedObject(depth: number): JsonObject {
  let v: JsonObject = {};
  for (let i = 1; i < depth; i++) v = { a: v };
  return v;
}

/** The last `mid` the server recorded for a client (0 when it has none). */
export async function lastMidOf(storage: SyncStorage, clientId: string): Promise<number> {
  const row = await storage.transaction((tx) => tx.getClient(asClientId(clientId)));
  return row?.lastMid ?? 0;
}

/** Resolves on the socket's next `disconnect`, with its reason. */
export function nextDisconnect(socket: TestSocket): Promise<string> {
  return new Promise((resolve) => socket.once('disconnect', (reason) => resolve(reason)));
}

export const BAD_SCOPE = 'team:bad';
export const GOOD_SCOPE = 'team:good';
/** The record every bad message tries to write; it must never exist. */
export const VICTIM = 'victim';

/**
 * Three sockets on one server: `bad` sends bad input into `team:bad`, `good` (subscribed to both
 * scopes) keeps working next to it, and `watcher` (subscribed to both) sees every broadcast.
 * `refuse` sends one bad message and proves that it got its error code and changed nothing,
 * that `good` still pushes and receives broadcasts, and that `bad`'s next correct push with the
 * same mid is applied.
 */
export class Arena {
  #goodMid = 0;

  private constructor(
    readonly running: RunningServer,
    public bad: TestClient,
    readonly good: TestClient,
    readonly watcher: TestClient,
  ) {}

  static async open(running: RunningServer): Promise<Arena> {
    const bad = await TestClient.connect(running.url);
    const good = await TestClient.connect(running.url);
    const watcher = await TestClient.connect(running.url);
    for (const c of [good, watcher]) {
      const sub = await c.subscribe(GOOD_SCOPE, BAD_SCOPE);
      expect(sub.ok && sub.scopes.every((s) => s.ok)).toBe(true);
    }
    const arena = new Arena(running, bad, good, watcher);
    // A baseline write, so "unchanged" is checked against a non-empty scope and a non-zero mid.
    expect(expectResults(await pushRaw(bad, [putMutation(1, BAD_SCOPE, 'base', { n: 0 })]))).toEqual([
      { mid: 1, status: 'applied', version: 1 },
    ]);
    await good.waitForChange((m) => m.scope === BAD_SCOPE && m.changes.some((c) => c.id === 'base'));
    return arena;
  }

  get storage(): SyncStorage {
    return this.running.storage;
  }

  /** What a bad message must not change. */
  async state(): Promise<{ head: number; lastMid: number }> {
    return {
      head: await this.storage.head(asScopeId(BAD_SCOPE)),
      lastMid: await lastMidOf(this.storage, this.bad.clientId),
    };
  }

  /** Sends one bad message with the bad client's next mid and checks every promise of invariant 5. */
  async refuse(code: ErrorCode, send: (mid: number) => Promise<unknown>): Promise<SyncError> {
    const before = await this.state();
    const error = expectError(await send(before.lastMid + 1), code);
    await this.expectUnchanged(before);
    expect(this.bad.socket.connected).toBe(true);
    await this.expectGoodWorks();
    await this.expectMidFree(before.lastMid + 1);
    return error;
  }

  async expectUnchanged(before: { head: number; lastMid: number }): Promise<void> {
    expect(await this.state()).toEqual(before);
    expect(await this.storage.getRecord(asScopeId(BAD_SCOPE), 'notes', VICTIM)).toBeUndefined();
  }

  /** The other socket is connected, its push is applied and broadcast to the other subscribers. */
  async expectGoodWorks(): Promise<void> {
    expect(this.good.socket.connected).toBe(true);
    const mid = ++this.#goodMid;
    const id = `g${mid}`;
    const res = await pushRaw(this.good, [putMutation(mid, GOOD_SCOPE, id, { mid })]);
    expect(expectResults(res)).toEqual([{ mid, status: 'applied', version: mid }]);
    expect((res as { committed?: unknown }).committed).toEqual([
      { scope: GOOD_SCOPE, after: mid - 1, count: 1 },
    ]);
    const msg = await this.watcher.waitForChange(
      (m) => m.scope === GOOD_SCOPE && m.changes.some((c) => c.id === id),
    );
    expect(msg.changes[0]?.value).toEqual({ mid });
    expect(this.good.socket.connected).toBe(true);
  }

  /**
   * The bad client's `mid` did not advance: a correct push with that mid is `applied` (not
   * `duplicate`), and its broadcast reaches `good` with no trace of the bad message before it.
   */
  async expectMidFree(mid: number): Promise<void> {
    const head = await this.storage.head(asScopeId(BAD_SCOPE));
    const id = `ok${mid}`;
    const results = expectResults(await pushRaw(this.bad, [putMutation(mid, BAD_SCOPE, id, { mid })]));
    expect(results).toEqual([{ mid, status: 'applied', version: head + 1 }]);
    await this.good.waitForChange((m) => m.scope === BAD_SCOPE && m.changes.some((c) => c.id === id));
    expect(this.good.changes.flatMap((m) => m.changes).some((c) => c.id === VICTIM)).toBe(false);
  }

  /** Connects the bad client again under the same client id (after the transport cut it off). */
  async reconnectBad(): Promise<void> {
    this.bad = await TestClient.connect(this.running.url, { clientId: this.bad.clientId });
  }

  close(): void {
    this.bad.close();
    this.good.close();
    this.watcher.close();
  }
}
