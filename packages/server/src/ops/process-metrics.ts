import { collectDefaultMetrics, Registry, type Metric } from 'prom-client';

const shared = new Map<string, Registry>();

/**
 * prom-client's default process metrics (resident memory, heap, CPU, event-loop lag, GC, handles),
 * named with `prefix`, created once per process (and prefix) and shared by every server in it:
 * they describe the process, not a server, and each set runs its own event-loop monitor and GC
 * observer, which would otherwise pile up — and outlive closed servers — in a process that
 * creates many servers. Each server registers these same metric objects in its own registry, so
 * its `/metrics` serves them. The set lives in a private registry, never prom-client's global
 * one, so it cannot collide with an app's own default metrics.
 */
export function sharedProcessMetrics(prefix: string): readonly Metric[] {
  let registry = shared.get(prefix);
  if (!registry) {
    registry = new Registry();
    collectDefaultMetrics({ register: registry, prefix });
    shared.set(prefix, registry);
  }
  // getMetricsAsArray returns the registered metric instances themselves.
  return registry.getMetricsAsArray() as unknown as Metric[];
}
