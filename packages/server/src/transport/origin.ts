import type { IncomingMessage } from 'node:http';

/**
 * Browser connections carry an Origin header; WebSocket upgrades are not covered by CORS, so
 * the origin is checked here for every transport. Closed by default: allowed are requests with
 * no Origin (non-browser clients), same-origin requests (Origin host equals Host), and the
 * configured origins (`*` allows all).
 */
export function isOriginAllowed(req: IncomingMessage, allowed: readonly string[]): boolean {
  const origin = req.headers.origin;
  if (origin === undefined) return true;
  if (allowed.includes('*') || allowed.includes(origin)) return true;
  try {
    return new URL(origin).host === req.headers.host;
  } catch {
    return false;
  }
}
