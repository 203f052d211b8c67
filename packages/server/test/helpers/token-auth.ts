import type { AuthHooks } from '../../src/auth/auth.js';

/**
 * Test auth: the bearer/handshake token names the user. `alice` and `bob` may use `team:*` and
 * their own `user:<id>`; `backend` may use every scope; `expired` authenticates with credentials
 * that expired long ago; anything else (or no token) is refused.
 */
export const tokenAuth: AuthHooks = {
  authenticate: ({ token }) => {
    if (token === 'alice' || token === 'bob') return { id: token };
    if (token === 'backend') return { id: 'backend', claims: { backend: true } };
    if (token === 'expired') return { id: 'old', expiresAt: 1 };
    return null;
  },
  authorize: (p, scope) =>
    p.claims?.['backend'] === true || scope === `user:${p.id}` || scope.startsWith('team:'),
};
