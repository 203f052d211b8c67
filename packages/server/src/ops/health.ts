import type { SyncStorage } from '../storage/storage.js';
import type { Timers } from './timers.js';

/** A named readiness check: ready when it returns or resolves `true`; `false` or a throw is not ready. */
export type ReadinessCheck = () => boolean | Promise<boolean>;

/**
 * Readiness (`GET /readyz`, `SyncServer.health()`): may this node take traffic? `ok` when the
 * storage answers a ping, every extra check (e.g. the Socket.IO adapter's connection) passes and
 * the server is not shutting down.
 */
export interface HealthReport {
  readonly status: 'ok' | 'unhealthy';
  readonly nodeId: string;
  readonly storage: { readonly kind: string; readonly ok: boolean; readonly error?: string };
  /** The extra readiness checks by name. */
  readonly checks: Readonly<Record<string, { readonly ok: boolean; readonly error?: string }>>;
  readonly shuttingDown: boolean;
  readonly connections: number;
  readonly uptimeSeconds: number;
}

/**
 * Liveness (`GET /healthz`): the process serves HTTP. It never touches storage, so an outage of
 * the database does not get every node restarted by an orchestrator; that is readiness's job.
 */
export interface LivenessReport {
  readonly status: 'ok';
  readonly nodeId: string;
  readonly connections: number;
  readonly uptimeSeconds: number;
  /**
   * Informational, never a reason to fail liveness: the cross-node fan-out connection's state
   * (known in memory, nothing is probed), when the server has one.
   */
  readonly adapter?: { readonly kind: string; readonly ok: boolean };
  /**
   * Informational: the outcome of the latest readiness probe (`/readyz` or `health()`), with its
   * server time in ms, so this one response shows storage health without touching storage.
   */
  readonly lastReadiness?: {
    readonly status: HealthReport['status'];
    readonly storageOk: boolean;
    readonly at: number;
  };
}

export interface HealthInputs {
  readonly storage: SyncStorage;
  readonly nodeId: string;
  readonly connections: number;
  /** Uptime in milliseconds. */
  readonly uptimeMs: number;
  readonly shuttingDown: boolean;
  readonly checks: Readonly<Record<string, ReadinessCheck>>;
  readonly timers: Timers;
  /** A probe that has not answered after this long counts as failed (default 2000 ms). */
  readonly timeoutMs?: number;
}

/** Runs `probe` with a deadline; resolves to an error message, or undefined when it passed. */
async function probe(
  run: () => Promise<boolean>,
  timers: Timers,
  timeoutMs: number,
): Promise<string | undefined> {
  let timer: unknown;
  const deadline = new Promise<string>((resolve) => {
    timer = timers.setTimeout(() => resolve(`no answer within ${timeoutMs} ms`), timeoutMs);
  });
  try {
    return await Promise.race([
      run().then(
        (ok) => (ok ? undefined : 'check failed'),
        (err: unknown) => (err instanceof Error ? err.message : String(err)),
      ),
      deadline,
    ]);
  } finally {
    timers.clearTimeout(timer);
  }
}

export async function checkHealth(inputs: HealthInputs): Promise<HealthReport> {
  const timeoutMs = inputs.timeoutMs ?? 2000;
  const names = Object.keys(inputs.checks);
  const [storageError, ...checkErrors] = await Promise.all([
    probe(
      async () => {
        await inputs.storage.ping();
        return true;
      },
      inputs.timers,
      timeoutMs,
    ),
    ...names.map((name) => probe(async () => inputs.checks[name]!(), inputs.timers, timeoutMs)),
  ]);
  const checks: Record<string, { ok: boolean; error?: string }> = {};
  names.forEach((name, i) => {
    const error = checkErrors[i];
    checks[name] = error === undefined ? { ok: true } : { ok: false, error };
  });
  const ready =
    storageError === undefined && checkErrors.every((e) => e === undefined) && !inputs.shuttingDown;
  return {
    status: ready ? 'ok' : 'unhealthy',
    nodeId: inputs.nodeId,
    storage:
      storageError === undefined
        ? { kind: inputs.storage.kind, ok: true }
        : { kind: inputs.storage.kind, ok: false, error: storageError },
    checks,
    shuttingDown: inputs.shuttingDown,
    connections: inputs.connections,
    uptimeSeconds: Math.round(inputs.uptimeMs / 1000),
  };
}
