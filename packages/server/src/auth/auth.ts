import type { ScopeId } from '@syncline/protocol';

/** Who is connected, as established by the `authenticate` hook. */
export interface Principal {
  /** Stable user id; a client id is bound to the first principal that uses it. */
  readonly id: string;
  /** When the credentials stop being valid, ms since the epoch; checked on every event. */
  readonly expiresAt?: number;
  /** Anything else the app's `authorize` hook needs (roles, teams…). */
  readonly claims?: Readonly<Record<string, unknown>>;
}

/** What the client sent when connecting. */
export interface HandshakeInfo {
  /** The `token` from the client's handshake, if any. */
  readonly token: string | undefined;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly address: string;
}

export type ScopeAction = 'pull' | 'push' | 'subscribe';

export interface AuthHooks {
  /** Resolves the principal for a connection, or null to refuse it (`unauthenticated`). */
  authenticate(handshake: HandshakeInfo): Principal | null | Promise<Principal | null>;
  /** May `principal` do `action` on `scope`? Asked on every pull, push (per mutation) and subscribe. */
  authorize(principal: Principal, scope: ScopeId, action: ScopeAction): boolean | Promise<boolean>;
}

/**
 * Development mode: every connection is accepted (the principal id is the handshake token, or
 * `dev`) and every action allowed. The server logs a loud warning when it is used.
 */
export const developmentAuth: AuthHooks = {
  authenticate: (h) => ({ id: h.token !== undefined && h.token.length > 0 ? h.token : 'dev' }),
  authorize: () => true,
};
