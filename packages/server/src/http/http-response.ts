import type { ServerResponse } from 'node:http';
import type { ErrorCode, SyncError } from '@syncline/protocol';

/** The HTTP status of each error code; codes not listed are client errors (400). */
const STATUS: Partial<Record<ErrorCode, number>> = {
  unauthenticated: 401,
  auth_expired: 401,
  forbidden: 403,
  client_id_mismatch: 403,
  origin_not_allowed: 403,
  unknown_route: 404,
  mid_gap: 409,
  mid_overlap: 409,
  split_required: 409,
  cursor_unavailable: 410,
  payload_too_large: 413,
  rate_limited: 429,
  internal: 500,
  storage_unavailable: 503,
  shutting_down: 503,
};

export function statusOf(code: ErrorCode): number {
  return STATUS[code] ?? 400;
}

export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Readonly<Record<string, string>> = {},
): void {
  const text = JSON.stringify(body);
  res
    .writeHead(status, {
      'content-type': 'application/json; charset=utf-8',
      'cache-control': 'no-store',
      'content-length': Buffer.byteLength(text),
      ...headers,
    })
    .end(text);
}

/**
 * Answers with `{ ok: false, error: { code, message, retryable } }` and the code's status (or
 * `status` when given, e.g. 405 or 415). 401s carry `WWW-Authenticate: Bearer`.
 */
export function sendError(
  res: ServerResponse,
  error: SyncError,
  opts: { readonly status?: number; readonly headers?: Readonly<Record<string, string>> } = {},
): void {
  const status = opts.status ?? statusOf(error.code);
  const headers: Record<string, string> = { ...opts.headers };
  if (status === 401) headers['www-authenticate'] = 'Bearer';
  sendJson(res, status, { ok: false, error }, headers);
}
