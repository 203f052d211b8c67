import { eventually, spawnServer, type ServerProcess } from '@syncline/test-support';

export interface ClusterNodeOptions {
  readonly pgUrl: string;
  readonly schema: string;
  /** Fan out through Redis Streams instead of PostgreSQL LISTEN/NOTIFY. */
  readonly redisUrl?: string;
  /** How long the node may take to be ready (default 20 s; the fault suite waits longer). */
  readonly readyTimeoutMs?: number;
  /** More `syncline-server` flags (e.g. `--config`). */
  readonly args?: readonly string[];
}

/** Spawns one `syncline-server` process on PostgreSQL (and Redis when given). */
export function spawnNode(opts: ClusterNodeOptions): Promise<ServerProcess> {
  return spawnServer(
    [
      '--port',
      '0',
      '--postgres',
      opts.pgUrl,
      '--pg-schema',
      opts.schema,
      '--pg-pool-size',
      '4',
      ...(opts.redisUrl !== undefined ? ['--redis', opts.redisUrl] : []),
      ...(opts.args ?? []),
      '--log-level',
      'info',
    ],
    {},
    opts.readyTimeoutMs !== undefined ? { readyTimeoutMs: opts.readyTimeoutMs } : {},
  );
}

/** `GET /readyz` status and body (status 0 when the node does not answer at all). */
export async function readyz(
  node: ServerProcess,
): Promise<{ status: number; body: Record<string, unknown> }> {
  try {
    const res = await fetch(`${node.url}/readyz`, { signal: AbortSignal.timeout(5000) });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  } catch {
    return { status: 0, body: {} };
  }
}

/** Waits until `/readyz` answers `status` (polled: readiness is not an event a test can await). */
export async function untilReadyz(node: ServerProcess, status: 200 | 503, timeoutMs = 20_000): Promise<void> {
  await eventually(
    async () => (await readyz(node)).status === status,
    `${node.url}/readyz never answered ${status}`,
    timeoutMs,
    100,
  );
}

/** True while the process runs. */
export const alive = (node: ServerProcess): boolean =>
  node.proc.exitCode === null && node.proc.signalCode === null;

/** SIGKILLs every node still running and waits for their exit. */
export async function killAll(nodes: readonly ServerProcess[]): Promise<void> {
  await Promise.all(
    nodes.map(async (n) => {
      if (alive(n)) n.proc.kill('SIGKILL');
      await n.exited;
    }),
  );
}

/** Log lines of a node at `level` or above, parsed. */
export function logEntries(node: ServerProcess): { level: string; msg: string; [k: string]: unknown }[] {
  return node.lines.map((l) => JSON.parse(l) as { level: string; msg: string });
}
