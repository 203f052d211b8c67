import { describe, expect, it } from 'vitest';
import { DEFAULT_LIMITS } from '../limits.js';
import { validateMessage } from '../validate.js';
import { HelloSchema } from './handshake.js';
import { ReauthRequestSchema, ReauthResponseSchema, SessionEndedSchema } from './reauth.js';

describe('reauth messages (protocol 4)', () => {
  it('takes exactly one non-empty token of bounded size', () => {
    expect(validateMessage(ReauthRequestSchema, { token: 't' }, DEFAULT_LIMITS).ok).toBe(true);
    for (const bad of [
      {},
      { token: '' },
      { token: 1 },
      { token: 't', x: 1 },
      { token: 'x'.repeat(8193) },
      null,
    ]) {
      const res = validateMessage(ReauthRequestSchema, bad, DEFAULT_LIMITS);
      expect(res.ok, JSON.stringify(bad)?.slice(0, 40)).toBe(false);
      if (!res.ok) expect(res.error.code).toBe('invalid_message');
    }
  });

  it('answers with the new expiry (or null) and the server time; hello carries the expiry too', () => {
    expect(ReauthResponseSchema.safeParse({ ok: true, expiresAt: null, serverTime: 5 }).success).toBe(true);
    expect(ReauthResponseSchema.safeParse({ ok: true, expiresAt: 9, serverTime: 5 }).success).toBe(true);
    expect(ReauthResponseSchema.safeParse({ ok: true, serverTime: 5 }).success).toBe(false);
    const hello = { protocolVersion: 4, nodeId: 'n', serverTime: 1, userId: 'u', devMode: false };
    expect(HelloSchema.safeParse({ ...hello, expiresAt: 10 }).success).toBe(true);
    expect(HelloSchema.safeParse(hello).success).toBe(false);
    expect(
      SessionEndedSchema.safeParse({ code: 'access_revoked', message: 'revoked', retryable: true }).success,
    ).toBe(true);
  });
});
