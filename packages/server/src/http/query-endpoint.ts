import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Principal } from '../auth/auth.js';
import { runQuery } from '../query/run-query.js';
import type { HttpContext } from './http-context.js';
import { readJsonBody } from './read-body.js';
import { sendError, sendJson } from './http-response.js';

/**
 * `POST /v1/query` with the body of a `query` event (see `QueryRequestSchema`): one page of a
 * read-through query with the same authorization (`pull` on the scope) and the same answer as
 * over the socket. 200 with `{ ok: true, rows, next, partial, errors }` (a failed source makes
 * the page `partial`, still 200); 400 bad query, 403 no access.
 */
export async function serveQuery(
  ctx: HttpContext,
  req: IncomingMessage,
  res: ServerResponse,
  principal: Principal,
): Promise<void> {
  const body = await readJsonBody(req, ctx.maxBodyBytes);
  if (!body.ok) return sendError(res, body.error, body.status !== undefined ? { status: body.status } : {});
  const out = await runQuery(ctx, principal, body.value);
  if (!out.ok) return sendError(res, out.error);
  sendJson(res, 200, out);
}
