import type { IncomingMessage, ServerResponse } from 'node:http';
import { ScopeIdSchema, syncError, type FeedLine, type ScopeId, type SyncError } from '@syncline/protocol';
import type { Principal } from '../auth/auth.js';
import { ChangeFeedError, readChangeFeed, type FeedEvent } from '../feed/change-feed.js';
import { failureOf, isStorageFailure } from '../ops/failure.js';
import type { HttpContext } from './http-context.js';
import { sendError } from './http-response.js';

type Format = 'sse' | 'ndjson';

interface FeedRequest {
  readonly scope: ScopeId;
  readonly after: number;
  readonly follow: boolean;
  readonly format: Format;
}

const invalid = (message: string) => ({ ok: false, error: syncError('invalid_message', message) }) as const;

/**
 * `GET /v1/changes?scope=…[&after=N][&follow=false][&format=ndjson|sse]`. The cursor is the
 * `Last-Event-ID` header when present (what an EventSource sends when it reconnects), else
 * `after`, else 0. The format is JSON lines when `format=ndjson` or the Accept header asks for
 * `application/x-ndjson`, Server-Sent Events otherwise.
 */
function parseFeedRequest(
  req: IncomingMessage,
  url: URL,
): { ok: true; value: FeedRequest } | ReturnType<typeof invalid> {
  const scope = ScopeIdSchema.safeParse(url.searchParams.get('scope'));
  if (!scope.success) return invalid('scope: 1-128 characters of [A-Za-z0-9_.:@/-] required');
  const lastEventId = req.headers['last-event-id'];
  const cursorText =
    typeof lastEventId === 'string' ? lastEventId.trim() : (url.searchParams.get('after') ?? '0');
  const after = Number(cursorText);
  if (!/^\d{1,16}$/.test(cursorText) || !Number.isSafeInteger(after)) {
    return invalid('the cursor (Last-Event-ID or after) must be a version: an integer ≥ 0');
  }
  const followText = url.searchParams.get('follow') ?? 'true';
  if (!['true', 'false', '1', '0'].includes(followText)) return invalid('follow must be true or false');
  const formatParam = url.searchParams.get('format');
  const accept = req.headers.accept ?? '';
  let format: Format;
  if (formatParam === 'ndjson' || formatParam === 'sse') format = formatParam;
  else if (formatParam !== null) return invalid('format must be sse or ndjson');
  else format = /application\/(x-)?ndjson|application\/jsonl/.test(accept) ? 'ndjson' : 'sse';
  return {
    ok: true,
    value: { scope: scope.data, after, follow: followText === 'true' || followText === '1', format },
  };
}

/** One event in the chosen format. SSE `change` and `caught_up` events carry the version as id. */
function encode(format: Format, line: FeedLine): string {
  if (format === 'ndjson') return `${JSON.stringify(line)}\n`;
  switch (line.type) {
    case 'change':
      return `id: ${line.change.version}\nevent: change\ndata: ${JSON.stringify(line.change)}\n\n`;
    case 'caught_up':
      return `id: ${line.version}\nevent: caught_up\ndata: ${JSON.stringify({ version: line.version })}\n\n`;
    case 'heartbeat':
      return ': heartbeat\n\n';
    case 'error':
      return `event: error\ndata: ${JSON.stringify({ error: line.error })}\n\n`;
  }
}

const toLine = (e: FeedEvent): FeedLine =>
  e.type === 'change' ? { type: 'change', change: e.change } : { type: 'caught_up', version: e.version };

/**
 * Streams a scope's change feed over HTTP (see `readChangeFeed` for what it delivers): every
 * committed change after the cursor exactly once, in version order, then `caught_up`, then live
 * changes, until the client goes away or the server shuts down. Authorized as a `pull` of the
 * scope. Errors found before the first byte are plain HTTP errors (400, 403, 410
 * `cursor_unavailable`, 503); later ones end the stream with an `error` event (resume from the
 * last id received). Idle streams get a heartbeat every `heartbeatMs`; expired credentials end
 * the stream with `auth_expired`.
 */
export async function serveChanges(
  ctx: HttpContext,
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
  principal: Principal,
): Promise<void> {
  const parsed = parseFeedRequest(req, url);
  if (!parsed.ok) return sendError(res, parsed.error);
  const { scope, after, follow, format } = parsed.value;
  if (!(await ctx.auth.authorize(principal, scope, 'pull'))) {
    return sendError(res, syncError('forbidden', `no pull access to scope "${scope}"`));
  }

  const stop = new AbortController();
  const signal = AbortSignal.any([stop.signal, ctx.closing]);
  res.once('close', () => stop.abort());
  const feed = readChangeFeed(ctx.feed, scope, after, { signal, follow });
  const failure = (err: unknown): SyncError => {
    if (err instanceof ChangeFeedError) return err.error;
    if (isStorageFailure(err)) ctx.metrics.storageErrors.inc({ operation: 'change_feed' });
    else ctx.logger.error('change feed failed', { err, scope });
    return failureOf(err);
  };

  // The first event decides the status: a refused cursor is a 410, not a 200 that ends at once.
  let first: IteratorResult<FeedEvent, void>;
  try {
    first = await feed.next();
  } catch (err) {
    return sendError(res, failure(err));
  }
  if (signal.aborted) {
    await feed.return();
    return;
  }

  res.writeHead(200, {
    'content-type':
      format === 'sse' ? 'text/event-stream; charset=utf-8' : 'application/x-ndjson; charset=utf-8',
    'cache-control': 'no-store',
    'x-accel-buffering': 'no',
    connection: 'keep-alive',
  });
  if (format === 'sse') res.write('retry: 1000\n\n');
  ctx.metrics.feedStreams.inc({ api: 'http' });

  const expired = () => principal.expiresAt !== undefined && ctx.clock.now() >= principal.expiresAt;
  let heartbeat: unknown;
  let ended = false;
  const end = (error?: SyncError) => {
    if (ended) return;
    ended = true;
    ctx.timers.clearTimeout(heartbeat);
    if (error && !res.destroyed) res.write(encode(format, { type: 'error', error }));
    res.end();
  };
  const beat = () => {
    if (expired()) {
      end(syncError('auth_expired', 'credentials expired; reconnect with fresh ones'));
      stop.abort();
      return;
    }
    res.write(encode(format, { type: 'heartbeat' }));
    heartbeat = ctx.timers.setTimeout(beat, ctx.heartbeatMs);
  };
  heartbeat = ctx.timers.setTimeout(beat, ctx.heartbeatMs);

  /** Writes one chunk, waiting for the socket to drain when its buffer is full (or the end). */
  const write = async (chunk: string) => {
    if (res.write(chunk) || res.destroyed || signal.aborted) return;
    await new Promise<void>((resolve) => {
      const done = () => {
        res.off('drain', done);
        res.off('close', done);
        signal.removeEventListener('abort', done);
        resolve();
      };
      res.on('drain', done);
      res.on('close', done);
      signal.addEventListener('abort', done);
    });
  };

  try {
    let next = first;
    while (!next.done && !ended) {
      if (expired()) {
        end(syncError('auth_expired', 'credentials expired; reconnect with fresh ones'));
        break;
      }
      await write(encode(format, toLine(next.value)));
      if (next.value.type === 'change') ctx.metrics.feedChanges.inc({ api: 'http' });
      next = await feed.next();
    }
    end(ctx.closing.aborted ? syncError('shutting_down', 'server is shutting down; reconnect') : undefined);
  } catch (err) {
    end(failure(err));
  } finally {
    ctx.metrics.feedStreams.dec({ api: 'http' });
    stop.abort();
    await feed.return();
    // A consumer that stopped reading must not hold the server's shutdown up.
    if (ctx.closing.aborted && res.writableNeedDrain) res.destroy();
  }
}
