import type { IncomingMessage, ServerResponse } from 'node:http';
import type { SyncStorage } from '../storage/storage.js';

export interface HealthReport {
  readonly status: 'ok' | 'unhealthy';
  readonly nodeId: string;
  readonly storage: { readonly kind: string; readonly ok: boolean; readonly error?: string };
  readonly connections: number;
  readonly uptimeSeconds: number;
}

export async function checkHealth(
  storage: SyncStorage,
  nodeId: string,
  connections: number,
  startedAt: number,
): Promise<HealthReport> {
  let error: string | undefined;
  try {
    await storage.ping();
  } catch (err) {
    error = (err as Error).message;
  }
  return {
    status: error === undefined ? 'ok' : 'unhealthy',
    nodeId,
    storage:
      error === undefined ? { kind: storage.kind, ok: true } : { kind: storage.kind, ok: false, error },
    connections,
    uptimeSeconds: Math.round((Date.now() - startedAt) / 1000),
  };
}

/** Serves `GET /healthz` (200 when storage answers, 503 otherwise); other paths get 404. */
export function healthRequestHandler(report: () => Promise<HealthReport>) {
  return (req: IncomingMessage, res: ServerResponse): void => {
    const path = (req.url ?? '/').split('?')[0];
    if (path !== '/healthz' || (req.method !== 'GET' && req.method !== 'HEAD')) {
      res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"not_found"}');
      return;
    }
    report().then(
      (r) =>
        res
          .writeHead(r.status === 'ok' ? 200 : 503, { 'content-type': 'application/json' })
          .end(JSON.stringify(r)),
      () => res.writeHead(503).end(),
    );
  };
}
