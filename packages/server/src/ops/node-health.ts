import type { SyncStorage } from '../storage/storage.js';
import type { Clock } from './clock.js';
import { checkHealth, type HealthReport, type LivenessReport, type ReadinessCheck } from './health.js';
import type { Timers } from './timers.js';

export interface NodeHealthInputs {
  readonly storage: SyncStorage;
  readonly nodeId: string;
  readonly clock: Clock;
  readonly timers: Timers;
  /** Server time the node started at (uptime counts from it). */
  readonly startedAt: number;
  /** The cross-node fan-out connection, when the node has one: a readiness check of its own. */
  readonly adapter?: { readonly kind: string; ready(): boolean } | undefined;
  /** The app's extra readiness checks (`readinessChecks`); one named `adapter` replaces ours. */
  readonly readinessChecks?: Readonly<Record<string, ReadinessCheck>> | undefined;
  /** Open engine.io connections right now. */
  connections(): number;
  isClosing(): boolean;
}

/** A node's two probes, as `/readyz` and `/healthz` (and `SyncServer`) serve them. */
export interface NodeHealth {
  /** Readiness: probes storage and every check; remembered for liveness. */
  readonly health: () => Promise<HealthReport>;
  /** Liveness: never touches storage; reports the latest readiness outcome instead. */
  readonly liveness: () => LivenessReport;
}

/** Wires `checkHealth` to this node's storage, checks, connections and shutdown state. */
export function nodeHealth(inputs: NodeHealthInputs): NodeHealth {
  const { adapter, clock, nodeId } = inputs;
  const checks: Readonly<Record<string, ReadinessCheck>> = {
    ...(adapter ? { adapter: () => adapter.ready() } : {}),
    ...inputs.readinessChecks,
  };
  let lastReadiness: LivenessReport['lastReadiness'];
  return {
    health: async () => {
      const report = await checkHealth({
        storage: inputs.storage,
        nodeId,
        connections: inputs.connections(),
        uptimeMs: clock.now() - inputs.startedAt,
        shuttingDown: inputs.isClosing(),
        checks,
        timers: inputs.timers,
      });
      lastReadiness = { status: report.status, storageOk: report.storage.ok, at: clock.now() };
      return report;
    },
    liveness: () => ({
      status: 'ok',
      nodeId,
      connections: inputs.connections(),
      uptimeSeconds: Math.round((clock.now() - inputs.startedAt) / 1000),
      ...(adapter ? { adapter: { kind: adapter.kind, ok: adapter.ready() } } : {}),
      ...(lastReadiness ? { lastReadiness } : {}),
    }),
  };
}
