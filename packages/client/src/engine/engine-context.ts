import type { ScopeId, SyncError } from '@syncline/protocol';
import type { EngineMetrics } from '../sync-metrics.js';
import type { EngineOptions, EngineState } from './engine-types.js';
import type { ClientSocket } from './transport.js';
import type { WriteQueue } from './write-queue.js';

/**
 * What the engine's loop (`sync-engine.ts`) lends the machines beside it (`pull-scope.ts`,
 * `push-pipeline.ts`, `live-changes.ts`). They never change the phase or the connection: they
 * record work (`needPull`), wake the loop, and report state, metrics and errors.
 */
export interface EngineContext {
  readonly options: EngineOptions;
  /** The serial queue every local write goes through. */
  readonly writes: WriteQueue;
  /** The current socket, if connected: compared with the one a step began with to see a drop. */
  socket(): ClientSocket | undefined;
  /** Whether `scope` is synced now (an unsubscribed scope's data is never written again). */
  subscribed(scope: ScopeId): boolean;
  /** Records that `scope` must be pulled; does not wake the loop (see `wake`). */
  needPull(scope: ScopeId): void;
  /** Wakes the loop to look at the work recorded. */
  wake(): void;
  metric(update: (m: EngineMetrics) => EngineMetrics): void;
  state(): EngineState;
  set(patch: Partial<EngineState>): void;
  /** Emits on `errors$` (without changing the phase). */
  report(error: SyncError): void;
}
