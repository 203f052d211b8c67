import type { IncomingMessage, ServerResponse } from 'node:http';
import { ServerWriteRequestSchema, syncError, validateMessage } from '@syncline/protocol';
import type { Principal } from '../auth/auth.js';
import { writeAsServer, writerState } from '../sync/server-writes.js';
import type { HttpContext } from './http-context.js';
import { readJsonBody } from './read-body.js';
import { sendError, sendJson } from './http-response.js';

/**
 * `POST /v1/mutations` with `{ clientId?, mutations }` (see `ServerWriteRequestSchema`): a
 * backend write through the client write path (`writeAsServer`). 200 with one result per
 * mutation (some may be `rejected` or `conflict`, as for a socket push); a push refused as a
 * whole is an error status: 400 bad input, 409 `mid_gap`, 413 too large, 503 retry later.
 */
export async function serveWrite(
  ctx: HttpContext,
  req: IncomingMessage,
  res: ServerResponse,
  principal: Principal,
): Promise<void> {
  const body = await readJsonBody(req, ctx.maxBodyBytes);
  if (!body.ok) {
    return sendError(res, body.error, {
      ...(body.status !== undefined ? { status: body.status } : {}),
      ...(body.error.code === 'payload_too_large' ? { headers: { connection: 'close' } } : {}),
    });
  }
  const envelope = validateMessage(ServerWriteRequestSchema, body.value, ctx.limits);
  if (!envelope.ok) return sendError(res, envelope.error);
  if (ctx.closing.aborted) return sendError(res, syncError('shutting_down', 'server is shutting down'));
  const work = writeAsServer(ctx, principal, envelope.value);
  ctx.track(work);
  const out = await work;
  if (!out.ok) return sendError(res, out.error);
  sendJson(res, 200, out);
}

/** `GET /v1/mutations/state[?clientId=…]`: the backend client id's last applied mid. */
export async function serveWriterState(
  ctx: HttpContext,
  res: ServerResponse,
  url: URL,
  principal: Principal,
): Promise<void> {
  const out = await writerState(ctx, principal, url.searchParams.get('clientId') ?? undefined);
  if (!out.ok) return sendError(res, out.error);
  sendJson(res, 200, out);
}
