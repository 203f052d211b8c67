/**
 * The engine loop's decisions, as pure functions (`sync-engine.ts` only wires them): which
 * phase to run next given the work recorded, what a failure reports, whether a backoff is
 * waited out, and why `syncNow` is refused.
 */
import { syncError, type SyncError } from '@syncline/protocol';
import { clientError, type SynclineError } from '../errors.js';
import { ConnectError, RequestFailed } from './transport.js';

/** What the loop knows when it picks its next step. */
export interface LoopView {
  readonly paused: boolean;
  readonly online: boolean;
  readonly connected: boolean;
  /** Scopes recorded to pull. */
  readonly pullsWanted: number;
  /** The outbox may hold something to send, or pushes await their answer. */
  readonly pushWanted: boolean;
}

/**
 * The next step, in priority order: without network (or paused) wait; without a socket
 * connect; then pull every scope recorded, then push; with nothing left the round is `live`.
 */
export function nextStep(view: LoopView): 'paused' | 'offline' | 'connect' | 'pull' | 'push' | 'live' {
  if (view.paused) return 'paused';
  if (!view.online) return 'offline';
  if (!view.connected) return 'connect';
  if (view.pullsWanted > 0) return 'pull';
  if (view.pushWanted) return 'push';
  return 'live';
}

/** The error a failed connection or request reports: the server's when it gave one. */
export function failureOf(err: unknown): SyncError {
  return err instanceof RequestFailed || err instanceof ConnectError
    ? err.error
    : syncError('internal', err instanceof Error ? err.message : String(err));
}

/**
 * Whether the loop waits out a backoff after a failure. Stopped, paused or offline meanwhile:
 * the loop handles that now, not after a backoff.
 */
export function waitsOutBackoff(state: {
  readonly stopped: boolean;
  readonly paused: boolean;
  readonly online: boolean;
}): boolean {
  return !state.stopped && !state.paused && state.online;
}

/** Why `syncNow()` is refused at once, or `undefined` when it can run a round. */
export function syncNowRefusal(state: {
  readonly stopped: boolean;
  readonly paused: boolean;
  readonly online: boolean;
}): SynclineError | undefined {
  if (state.stopped) return clientError('closed', 'sync is stopped');
  if (state.paused || !state.online)
    return clientError('offline', state.paused ? 'sync is paused' : 'the network is offline');
  return undefined;
}
