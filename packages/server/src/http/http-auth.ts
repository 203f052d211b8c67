import type { IncomingMessage } from 'node:http';
import { syncError, type Validated } from '@syncline/protocol';
import type { AuthHooks, Principal } from '../auth/auth.js';
import type { Clock } from '../ops/clock.js';

/** Longest bearer token accepted (the same bound as a socket handshake token). */
const MAX_TOKEN_LENGTH = 8192;

/**
 * Authenticates an HTTP request through the same `authenticate` hook as socket handshakes:
 * `Authorization: Bearer <token>` becomes `HandshakeInfo.token` (no header: token undefined).
 * A malformed header, a refused token or expired credentials are `unauthenticated` /
 * `auth_expired` (401).
 */
export async function authenticateRequest(
  auth: AuthHooks,
  clock: Clock,
  req: IncomingMessage,
): Promise<Validated<Principal>> {
  const header = req.headers.authorization;
  let token: string | undefined;
  if (header !== undefined) {
    const match = /^Bearer +([^\s]+) *$/i.exec(header);
    if (!match || match[1]!.length > MAX_TOKEN_LENGTH) {
      return { ok: false, error: syncError('unauthenticated', 'send Authorization: Bearer <token>') };
    }
    token = match[1];
  }
  const principal = await auth.authenticate({
    token,
    headers: req.headers,
    address: req.socket.remoteAddress ?? '',
  });
  if (!principal) return { ok: false, error: syncError('unauthenticated', 'authentication failed') };
  if (principal.expiresAt !== undefined && clock.now() >= principal.expiresAt) {
    return { ok: false, error: syncError('auth_expired', 'credentials expired') };
  }
  return { ok: true, value: principal };
}
