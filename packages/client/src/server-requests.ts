// Requests outside the sync loop (a record's history, a scope's hash): over the leader's socket,
// or a short-lived one in a follower tab, each bounded by `requestTimeoutMs`.
import type { Dexie } from 'dexie';
import {
  asScopeId,
  type HashResponse,
  type HistoryEntry,
  type HistoryRequest,
  type HistoryResponse,
} from '@syncline/protocol';
import { decodeHistoryEntry, type AppHistoryEntry, type AppKey } from './app-values.js';
import { connectSocket, request, type ClientSocket } from './engine/transport.js';
import { clientError, fromSyncError, SynclineError } from './errors.js';
import type { ResolvedOptions } from './resolve-options.js';
import { recordScope } from './store/client-queries.js';
import { recordIdOf } from './store/synced-keys.js';

export interface RequestContext {
  readonly db: Dexie;
  readonly options: ResolvedOptions;
  /** This database's client id (throws `not_started` before `start()`). */
  readonly clientId: () => string;
  /** The leader's socket in the tab that runs sync. */
  readonly liveSocket: () => ClientSocket | undefined;
}

/** Paging of a history request: at most `limit` entries, older than version `before`. */
export interface HistoryPage {
  limit?: number;
  before?: number;
}

/** A record's history from the server in the wire encoding, newest first. */
export async function fetchHistory(
  ctx: RequestContext,
  table: string,
  key: AppKey,
  page: HistoryPage,
): Promise<HistoryEntry[]> {
  const id = recordIdOf(key);
  if (!id.ok) throw clientError('unsupported_key', `${table}: ${id.message}`);
  const scope = await recordScope(ctx.db, table, id.value);
  if (scope === undefined) throw clientError('unknown_record', `no synced record ${table}/${id.value}`);
  return withSocket(ctx, async (s) => {
    const req = { scope: asScopeId(scope), collection: table, id: id.value, ...page } as HistoryRequest;
    const res: HistoryResponse = await request(s, 'history', req, ctx.options.requestTimeoutMs);
    if (!res.ok) throw fromSyncError(res.error);
    return res.entries;
  });
}

/** A record's history from the server in the app's values, newest first. */
export async function fetchAppHistory(
  ctx: RequestContext,
  table: string,
  key: AppKey,
  page: HistoryPage,
): Promise<AppHistoryEntry[]> {
  return (await fetchHistory(ctx, table, key, page)).map(decodeHistoryEntry);
}

/** Version `version` of a record (wire encoding), or `unknown_version` when the history lacks it. */
export async function fetchVersion(
  ctx: RequestContext,
  table: string,
  key: AppKey,
  version: number,
): Promise<{ id: string; value: HistoryEntry['value'] }> {
  const id = recordIdOf(key);
  if (!id.ok) throw clientError('unsupported_key', `${table}: ${id.message}`);
  const entry = (await fetchHistory(ctx, table, key, { before: version + 1, limit: 1 }))[0];
  if (entry?.version !== version)
    throw clientError('unknown_version', `version ${version} of ${table}/${id.value} is not in its history`);
  return { id: id.value, value: entry.value };
}

/** The server's content hash of a scope. */
export function fetchServerHash(ctx: RequestContext, scope: string): Promise<HashResponse & { ok: true }> {
  return withSocket(ctx, async (s) => {
    const req = { scope: asScopeId(scope) };
    const res: HashResponse = await request(s, 'hash', req, ctx.options.requestTimeoutMs);
    if (!res.ok) throw fromSyncError(res.error);
    return res;
  });
}

/**
 * Runs `fn` on a connected socket (the leader's, or a short-lived one). Failing to connect or to get an answer rejects with
 * `SynclineError` `unreachable` (the server's own errors keep their code).
 */
export async function withSocket<R>(ctx: RequestContext, fn: (s: ClientSocket) => Promise<R>): Promise<R> {
  try {
    return await onSocket(ctx, fn);
  } catch (e) {
    if (e instanceof SynclineError) throw e;
    const message = e instanceof Error ? e.message : String(e);
    throw clientError('unreachable', `the server did not answer: ${message}`, { cause: e });
  }
}

async function onSocket<R>(ctx: RequestContext, fn: (s: ClientSocket) => Promise<R>): Promise<R> {
  const live = ctx.liveSocket();
  if (live?.connected) return fn(live);
  const o = ctx.options;
  const { socket } = await connectSocket({
    url: o.urls[0]!,
    clientId: ctx.clientId(),
    token: o.token,
    path: o.path,
    timeoutMs: o.requestTimeoutMs,
  });
  try {
    return await fn(socket);
  } finally {
    socket.close();
  }
}
