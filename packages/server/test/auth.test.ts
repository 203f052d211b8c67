import { get } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { io as ioClient } from 'socket.io-client';
import {
  ERROR_CODES,
  PROTOCOL_VERSION,
  SyncErrorSchema,
  asClientId,
  asScopeId,
  type ErrorCode,
  type Hello,
  type SyncError,
} from '@syncline/protocol';
import type { AuthHooks, Principal, ScopeAction } from '../src/auth/auth.js';
import type { Logger } from '../src/ops/logger.js';
import {
  newClientId,
  startServer,
  TestClient,
  type RunningServer,
  type TestSocket,
} from '@syncline/test-support/server';
import {
  expectError,
  expectResults,
  lastMidOf,
  nextDisconnect,
  pushRaw,
  putMutation,
} from './helpers/bad-input.js';

let running: RunningServer | undefined;
const sockets: { close(): void }[] = [];

afterEach(async () => {
  for (const s of sockets.splice(0)) s.close();
  await running?.stop();
  running = undefined;
});

const ALL: readonly ScopeAction[] = ['pull', 'push', 'subscribe'];
/** Who may do what where. `admin` may do everything everywhere. */
const ACL: Record<string, Record<string, readonly ScopeAction[]>> = {
  alice: {
    'team:a': ALL,
    'team:readonly': ['pull', 'subscribe'],
    'team:writeonly': ['push'],
  },
  bob: { 'team:b': ALL },
  carol: { 'team:a': ALL },
};

interface AuthCall {
  readonly user: string;
  readonly scope: string;
  readonly action: ScopeAction;
}

/** Token-table auth hooks that record every authorize call. Times come from `now`. */
function makeAuth(now: () => number = Date.now) {
  const calls: AuthCall[] = [];
  const hooks: AuthHooks = {
    authenticate: ({ token }): Principal | null => {
      switch (token) {
        case 'tok-alice':
          return { id: 'alice' };
        case 'tok-bob':
          return { id: 'bob' };
        case 'tok-admin':
          return { id: 'admin' };
        case 'tok-carol-expiring':
          return { id: 'carol', expiresAt: now() + 60_000 };
        case 'tok-carol-stale':
          return { id: 'carol', expiresAt: now() - 1 };
        default:
          return null;
      }
    },
    authorize: async (principal, scope, action) => {
      calls.push({ user: principal.id, scope, action });
      if (principal.id === 'admin') return true;
      return ACL[principal.id]?.[scope]?.includes(action) ?? false;
    },
  };
  return { hooks, calls };
}

async function connect(url: string, token: string, clientId?: string): Promise<TestClient> {
  const c = await TestClient.connect(url, { token, ...(clientId !== undefined ? { clientId } : {}) });
  sockets.push(c);
  return c;
}

function expectSyncError(value: unknown, code: ErrorCode): SyncError {
  const parsed = SyncErrorSchema.safeParse(value);
  if (!parsed.success) throw new Error(`expected a SyncError with ${code}, got ${JSON.stringify(value)}`);
  expect(parsed.data.code, parsed.data.message).toBe(code);
  expect(parsed.data.retryable).toBe(ERROR_CODES[code].retryable);
  return parsed.data;
}

/** Connects and expects the server to refuse; returns the refusal's `connect_error` data. */
async function refusal(url: string, opts: Parameters<typeof TestClient.connect>[1]): Promise<unknown> {
  const outcome = await TestClient.connect(url, opts).then(
    (c) => {
      c.close();
      return undefined;
    },
    (err: unknown) => err,
  );
  expect(outcome, 'the connection was accepted').toBeInstanceOf(Error);
  return (outcome as { data?: unknown }).data;
}

/** Connects with a raw socket that listens for `hello` before the connection completes. */
function connectForHello(
  url: string,
  auth: Record<string, unknown>,
): Promise<{ socket: TestSocket; hello: Hello }> {
  const socket: TestSocket = ioClient(url, {
    transports: ['websocket'],
    reconnection: false,
    forceNew: true,
    auth,
  });
  sockets.push(socket);
  return new Promise((resolve, reject) => {
    socket.once('hello', (hello) => resolve({ socket, hello }));
    socket.once('connect_error', reject);
  });
}

describe('authentication', () => {
  it('refuses a connection without a valid token with unauthenticated, binding nothing', async () => {
    const { hooks } = makeAuth();
    running = await startServer({ auth: hooks });
    for (const token of [undefined, 'tok-mallory', '']) {
      const clientId = newClientId();
      const auth = { protocolVersion: PROTOCOL_VERSION, clientId, ...(token !== undefined ? { token } : {}) };
      expectSyncError(await refusal(running.url, { auth }), 'unauthenticated');
      expect(await running.storage.transaction((tx) => tx.getClient(asClientId(clientId)))).toBeUndefined();
    }
    // The same server accepts a valid token.
    const alice = await connect(running.url, 'tok-alice');
    expect(alice.socket.connected).toBe(true);
  });

  it('refuses another protocol version with unsupported_protocol', async () => {
    const { hooks } = makeAuth();
    running = await startServer({ auth: hooks });
    for (const protocolVersion of [PROTOCOL_VERSION + 1, 0]) {
      const auth = { protocolVersion, clientId: newClientId(), token: 'tok-alice' };
      expectSyncError(await refusal(running.url, { auth }), 'unsupported_protocol');
    }
  });

  it('refuses a malformed handshake with invalid_message', async () => {
    const { hooks } = makeAuth();
    running = await startServer({ auth: hooks });
    const good = { protocolVersion: PROTOCOL_VERSION, clientId: newClientId(), token: 'tok-alice' };
    const bad: Record<string, unknown>[] = [
      { ...good, clientId: 'short' },
      { ...good, clientId: 'has spaces in it' },
      { ...good, clientId: 'x'.repeat(65) },
      { protocolVersion: PROTOCOL_VERSION, token: 'tok-alice' },
      { ...good, protocolVersion: String(PROTOCOL_VERSION) },
      { ...good, token: 42 },
      { ...good, token: 't'.repeat(8193) },
      {},
    ];
    for (const auth of bad) expectSyncError(await refusal(running.url, { auth }), 'invalid_message');
  });

  it('refuses a client id bound to another user with client_id_mismatch', async () => {
    const { hooks } = makeAuth();
    running = await startServer({ auth: hooks });
    const clientId = newClientId();
    const alice = await connect(running.url, 'tok-alice', clientId);
    expectResults(await pushRaw(alice, [putMutation(1, 'team:a', 'n1', { by: 'alice' })]));
    alice.close();
    expectSyncError(await refusal(running.url, { clientId, token: 'tok-bob' }), 'client_id_mismatch');
    // The binding and the mid are alice's, untouched; she can still use her client id.
    expect(await lastMidOf(running.storage, clientId)).toBe(1);
    const again = await connect(running.url, 'tok-alice', clientId);
    expect(expectResults(await pushRaw(again, [putMutation(2, 'team:a', 'n2', { by: 'alice' })]))).toEqual([
      { mid: 2, status: 'applied', version: 2 },
    ]);
  });

  it('refuses credentials that have already expired with auth_expired', async () => {
    let t = 1_700_000_000_000;
    const { hooks } = makeAuth(() => t);
    running = await startServer({ auth: hooks, clock: { now: () => t } });
    expectSyncError(await refusal(running.url, { token: 'tok-carol-stale' }), 'auth_expired');
    t += 1;
    expect((await connect(running.url, 'tok-carol-expiring')).socket.connected).toBe(true);
  });

  it('answers the next event with auth_expired once the principal expires, and disconnects', async () => {
    let t = 1_700_000_000_000;
    const { hooks } = makeAuth(() => t);
    running = await startServer({ auth: hooks, clock: { now: () => t } });
    const carol = await connect(running.url, 'tok-carol-expiring');
    const alice = await connect(running.url, 'tok-alice');
    await alice.subscribe('team:a');
    expect(expectResults(await pushRaw(carol, [putMutation(1, 'team:a', 'c1', { n: 1 })]))).toEqual([
      { mid: 1, status: 'applied', version: 1 },
    ]);

    t += 59_999;
    expect((await carol.pull('team:a')).ok).toBe(true);
    t += 1; // now exactly at expiresAt
    const disconnected = nextDisconnect(carol.socket);
    expectError(await pushRaw(carol, [putMutation(2, 'team:a', 'c2', { n: 2 })]), 'auth_expired');
    expect(await disconnected).toBe('io server disconnect');
    expect(carol.socket.connected).toBe(false);
    expect(await running.storage.head(asScopeId('team:a'))).toBe(1);
    expect(await lastMidOf(running.storage, carol.clientId)).toBe(1);

    // Nobody else is affected.
    expect(alice.socket.connected).toBe(true);
    expect(expectResults(await pushRaw(alice, [putMutation(1, 'team:a', 'a1', { n: 1 })]))).toEqual([
      { mid: 1, status: 'applied', version: 2 },
    ]);
    expect(await running.storage.head(asScopeId('team:a'))).toBe(2);

    // Fresh credentials work again, and mid 2 was never consumed.
    const back = await connect(running.url, 'tok-carol-expiring', carol.clientId);
    expect(expectResults(await pushRaw(back, [putMutation(2, 'team:a', 'c2', { n: 2 })]))).toEqual([
      { mid: 2, status: 'applied', version: 3 },
    ]);
  });

  it('logs a loud warning in development mode and says so in hello', async () => {
    const entries: { level: string; msg: string; fields: Record<string, unknown> | undefined }[] = [];
    const capture = (level: string) => (msg: string, fields?: Record<string, unknown>) => {
      entries.push({ level, msg, fields });
    };
    const logger: Logger = {
      debug: capture('debug'),
      info: capture('info'),
      warn: capture('warn'),
      error: capture('error'),
    };
    running = await startServer({ auth: 'development', logger });
    const warning = entries.find((e) => e.level === 'warn' && /development/i.test(e.msg));
    expect(warning, JSON.stringify(entries)).toBeDefined();
    expect(warning?.msg).toMatch(/DEVELOPMENT AUTH MODE/);
    expect(warning?.msg).toMatch(/production/);
    expect(warning?.fields).toMatchObject({ devMode: true });
    const { hello } = await connectForHello(running.url, {
      protocolVersion: PROTOCOL_VERSION,
      clientId: newClientId(),
    });
    expect(hello.devMode).toBe(true);
    expect(hello.userId).toBe('dev');
  });

  it('does not warn about development mode with real auth hooks, and hello names the principal', async () => {
    const entries: string[] = [];
    const note = (msg: string) => {
      entries.push(msg);
    };
    const logger: Logger = { debug: note, info: note, warn: note, error: note };
    running = await startServer({ auth: makeAuth().hooks, logger });
    expect(entries.some((m) => /development/i.test(m))).toBe(false);
    const { hello } = await connectForHello(running.url, {
      protocolVersion: PROTOCOL_VERSION,
      clientId: newClientId(),
      token: 'tok-alice',
    });
    expect(hello).toMatchObject({ devMode: false, userId: 'alice', protocolVersion: PROTOCOL_VERSION });
  });
});

describe('authorization', () => {
  it('rejects pushes to forbidden scopes per mutation, advancing the mid, and applies the allowed ones', async () => {
    const { hooks, calls } = makeAuth();
    running = await startServer({ auth: hooks });
    const alice = await connect(running.url, 'tok-alice');
    const results = expectResults(
      await pushRaw(alice, [
        putMutation(1, 'team:secret', 's1', { x: 1 }),
        putMutation(2, 'team:a', 'a1', { x: 2 }),
        putMutation(3, 'team:readonly', 'r1', { x: 3 }),
      ]),
    );
    expect(results.map((r) => r.status)).toEqual(['rejected', 'applied', 'rejected']);
    for (const r of [results[0], results[2]]) {
      if (r?.status !== 'rejected') throw new Error('expected rejected');
      expectSyncError(r.error, 'forbidden');
    }
    expect(results[1]).toEqual({ mid: 2, status: 'applied', version: 1 });
    expect(await running.storage.head(asScopeId('team:secret'))).toBe(0);
    expect(await running.storage.head(asScopeId('team:readonly'))).toBe(0);
    expect(await running.storage.getRecord(asScopeId('team:secret'), 'notes', 's1')).toBeUndefined();
    expect(await lastMidOf(running.storage, alice.clientId)).toBe(3);
    expect(calls).toEqual(
      expect.arrayContaining([
        { user: 'alice', scope: 'team:secret', action: 'push' },
        { user: 'alice', scope: 'team:readonly', action: 'push' },
      ]),
    );

    // The rejected mids were consumed: resending them is a duplicate, the next mid applies.
    expect(expectResults(await pushRaw(alice, [putMutation(1, 'team:secret', 's1', { x: 1 })]))).toEqual([
      { mid: 1, status: 'duplicate' },
    ]);
    expect(expectResults(await pushRaw(alice, [putMutation(4, 'team:a', 'a2', { x: 4 })]))).toEqual([
      { mid: 4, status: 'applied', version: 2 },
    ]);

    // A txn that touches a forbidden scope commits nothing.
    const txn = expectResults(
      await pushRaw(alice, [
        { ...putMutation(5, 'team:a', 'a3', { x: 5 }), txn: 't1' },
        { ...putMutation(6, 'team:secret', 's2', { x: 6 }), txn: 't1' },
      ]),
    );
    expect(txn.map((r) => (r.status === 'rejected' ? r.error.code : r.status))).toEqual([
      'txn_aborted',
      'forbidden',
    ]);
    expect(await running.storage.head(asScopeId('team:a'))).toBe(2);
    expect(await running.storage.head(asScopeId('team:secret'))).toBe(0);
  });

  it('refuses a pull of a forbidden scope with forbidden', async () => {
    const { hooks, calls } = makeAuth();
    running = await startServer({ auth: hooks });
    const admin = await connect(running.url, 'tok-admin');
    expectResults(
      await pushRaw(admin, [
        putMutation(1, 'team:secret', 's1', { x: 1 }),
        putMutation(2, 'team:readonly', 'r1', { x: 1 }),
      ]),
    );
    const alice = await connect(running.url, 'tok-alice');
    expectError(await alice.pull('team:secret'), 'forbidden');
    expectError(await alice.pull('team:writeonly'), 'forbidden');
    const ok = await alice.pull('team:readonly');
    expect(ok.ok && ok.changes.map((c) => c.id)).toEqual(['r1']);
    expect(calls.filter((c) => c.user === 'alice')).toEqual([
      { user: 'alice', scope: 'team:secret', action: 'pull' },
      { user: 'alice', scope: 'team:writeonly', action: 'pull' },
      { user: 'alice', scope: 'team:readonly', action: 'pull' },
    ]);
  });

  it('refuses a subscription per scope and never broadcasts the forbidden scope to the socket', async () => {
    const { hooks } = makeAuth();
    running = await startServer({ auth: hooks });
    const alice = await connect(running.url, 'tok-alice');
    const admin = await connect(running.url, 'tok-admin');
    const res = await alice.subscribe('team:secret', 'team:a', 'team:writeonly');
    if (!res.ok) throw new Error(`subscribe failed: ${res.error.code}`);
    expect(res.scopes.map((s) => [s.scope, s.ok])).toEqual([
      ['team:secret', false],
      ['team:a', true],
      ['team:writeonly', false],
    ]);
    for (const s of res.scopes) if (!s.ok) expectSyncError(s.error, 'forbidden');

    // Changes in the forbidden scopes are committed before the allowed one; on one connection
    // messages arrive in order, so once team:a's change is here, any forbidden one would be too.
    expectResults(await pushRaw(admin, [putMutation(1, 'team:secret', 's1', { x: 1 })]));
    expectResults(await pushRaw(admin, [putMutation(2, 'team:writeonly', 'w1', { x: 1 })]));
    expectResults(await pushRaw(admin, [putMutation(3, 'team:a', 'a1', { x: 1 })]));
    await alice.waitForChange((m) => m.scope === 'team:a' && m.changes.some((c) => c.id === 'a1'));
    expect(alice.changes.map((m) => m.scope)).toEqual(['team:a']);
  });

  it('requires pull permission for history and hash', async () => {
    const { hooks, calls } = makeAuth();
    running = await startServer({ auth: hooks });
    const admin = await connect(running.url, 'tok-admin');
    expectResults(
      await pushRaw(admin, [
        putMutation(1, 'team:secret', 'r', { x: 1 }),
        putMutation(2, 'team:writeonly', 'r', { x: 1 }),
        putMutation(3, 'team:readonly', 'r', { x: 1 }),
      ]),
    );
    const alice = await connect(running.url, 'tok-alice');
    for (const scope of ['team:secret', 'team:writeonly']) {
      expectError(await alice.history({ scope, collection: 'notes', id: 'r' }), 'forbidden');
      expectError(await alice.hash(scope), 'forbidden');
    }
    const history = await alice.history({ scope: 'team:readonly', collection: 'notes', id: 'r' });
    expect(history.ok && history.entries.map((e) => e.version)).toEqual([1]);
    const hash = await alice.hash('team:readonly');
    expect(hash.ok && hash.count).toBe(1);
    const aliceCalls = calls.filter((c) => c.user === 'alice');
    expect(aliceCalls).toHaveLength(6);
    expect(aliceCalls.every((c) => c.action === 'pull')).toBe(true);
  });
});

describe('origin', () => {
  /** The Engine.IO polling handshake with these headers: status and CORS header. */
  function probe(
    url: string,
    headers: Record<string, string>,
  ): Promise<{ status: number; allowOrigin: unknown }> {
    return new Promise((resolve, reject) => {
      get(`${url}/socket.io/?EIO=4&transport=polling`, { headers }, (res) => {
        res.resume();
        resolve({ status: res.statusCode ?? 0, allowOrigin: res.headers['access-control-allow-origin'] });
      }).on('error', reject);
    });
  }

  /** A socket.io-client connection over HTTP long-polling with extra headers. */
  function connectPolling(url: string, headers: Record<string, string>): Promise<TestSocket> {
    const socket: TestSocket = ioClient(url, {
      transports: ['polling'],
      reconnection: false,
      forceNew: true,
      extraHeaders: headers,
      auth: { protocolVersion: PROTOCOL_VERSION, clientId: newClientId(), token: 'tok-alice' },
    });
    sockets.push(socket);
    return new Promise((resolve, reject) => {
      socket.once('connect', () => resolve(socket));
      socket.once('connect_error', (err) => {
        socket.close();
        reject(err);
      });
    });
  }

  const failed = (p: Promise<unknown>) =>
    p.then(
      () => false,
      () => true,
    );

  it('refuses foreign origins by default and accepts no-Origin and same-origin connections', async () => {
    running = await startServer({ auth: makeAuth().hooks });
    const { url } = running;
    const host = new URL(url).host;
    expect(await probe(url, { Origin: 'http://evil.example' })).toMatchObject({ status: 403 });
    expect(await probe(url, { Origin: 'null' })).toMatchObject({ status: 403 });
    expect(await probe(url, { Origin: 'http://127.0.0.1:1' })).toMatchObject({ status: 403 });
    expect(await probe(url, {})).toMatchObject({ status: 200 });
    expect(await probe(url, { Origin: `http://${host}` })).toMatchObject({ status: 200 });

    expect(await failed(connectPolling(url, { Origin: 'http://evil.example' }))).toBe(true);
    // Over WebSocket the refusal carries a clear, non-retryable code.
    await expect(
      TestClient.connect(url, { token: 'tok-alice', extraHeaders: { Origin: 'http://evil.example' } }),
    ).rejects.toMatchObject({ data: { code: 'origin_not_allowed', retryable: false } });

    expect((await connectPolling(url, {})).connected).toBe(true);
    expect((await connectPolling(url, { Origin: `http://${host}` })).connected).toBe(true);
    const sameWs = await connect(url, 'tok-alice');
    expect(sameWs.socket.connected).toBe(true);
    const sameOriginWs = await TestClient.connect(url, {
      token: 'tok-alice',
      extraHeaders: { Origin: `http://${host}` },
    });
    sockets.push(sameOriginWs);
    expect(sameOriginWs.socket.connected).toBe(true);
  });

  it('accepts the configured CORS origins and still refuses others', async () => {
    running = await startServer({ auth: makeAuth().hooks, cors: { origins: ['http://app.example'] } });
    const { url } = running;
    expect(await probe(url, { Origin: 'http://app.example' })).toEqual({
      status: 200,
      allowOrigin: 'http://app.example',
    });
    expect(await probe(url, { Origin: 'http://evil.example' })).toMatchObject({ status: 403 });

    const polling = await connectPolling(url, { Origin: 'http://app.example' });
    expect(polling.connected).toBe(true);
    const ws = await TestClient.connect(url, {
      token: 'tok-alice',
      extraHeaders: { Origin: 'http://app.example' },
    });
    sockets.push(ws);
    expect(ws.socket.connected).toBe(true);
    expect(expectResults(await pushRaw(ws, [putMutation(1, 'team:a', 'n', { from: 'app' })]))).toEqual([
      { mid: 1, status: 'applied', version: 1 },
    ]);
    expect(await failed(connectPolling(url, { Origin: 'http://evil.example' }))).toBe(true);
  });
});
