import { Gauge, type Registry } from 'prom-client';
import { PROTOCOL_VERSION } from '@syncline/protocol';
import type { ClientHealth } from './client-telemetry.js';

/** Live figures read at scrape time, so gauges never drift from the truth. */
export interface MetricsSources {
  /** Accepted sockets on this node. */
  connectedClients(): number;
  /** Socket-scope subscriptions on this node, how many distinct scopes, and the largest room. */
  subscriptions(): { readonly total: number; readonly scopes: number; readonly maxPerScope: number };
  /** Deliveries waiting per webhook collection. */
  webhookQueues(): ReadonlyMap<string, number>;
  /** Presence entries held by sockets on this node, and the scopes they are in. */
  presence(): { readonly entries: number; readonly scopes: number };
}

export interface ScrapeGaugeInputs {
  readonly prefix: string;
  readonly nodeId: string;
  readonly storageKind: string;
  readonly sources: MetricsSources;
  /** The largest figure over connected clients' latest telemetry (`ClientTelemetry.max`). */
  readonly clientMax: (pick: (h: ClientHealth) => number) => number;
}

/**
 * Registers the gauges that describe this node as it is now: its identity, its sockets and
 * rooms, the worst connected client's telemetry and the webhook queues. Each reads its source
 * when scraped; nothing updates them in between.
 */
export function registerScrapeGauges(registry: Registry, inputs: ScrapeGaugeInputs): void {
  const registers = [registry];
  const { prefix, sources } = inputs;
  const live = (name: string, help: string, read: () => number) =>
    new Gauge({
      name: prefix + name,
      help,
      registers,
      collect() {
        this.set(read());
      },
    });

  new Gauge({
    name: `${prefix}node_info`,
    help: 'Always 1; labels describe this server node.',
    labelNames: ['node_id', 'storage', 'protocol_version'],
    registers,
  }).set(
    { node_id: inputs.nodeId, storage: inputs.storageKind, protocol_version: String(PROTOCOL_VERSION) },
    1,
  );
  live('connected_clients', 'Sockets connected to this node (accepted handshakes).', () =>
    sources.connectedClients(),
  );
  live(
    'subscriptions',
    'Scope subscriptions held by sockets on this node (one per socket and scope).',
    () => sources.subscriptions().total,
  );
  live(
    'subscribed_scopes',
    'Distinct scopes with at least one subscriber on this node.',
    () => sources.subscriptions().scopes,
  );
  live(
    'max_scope_subscribers',
    'Subscribers of the most subscribed scope on this node (largest fan-out).',
    () => sources.subscriptions().maxPerScope,
  );
  live(
    'presence_entries',
    'Presence entries (one per tab and scope) held by sockets on this node.',
    () => sources.presence().entries,
  );
  live(
    'presence_scopes',
    'Scopes with at least one presence entry held on this node.',
    () => sources.presence().scopes,
  );
  live(
    'client_max_lag_versions',
    'Largest scope lag (head minus cursor) in the latest telemetry of connected clients.',
    () => inputs.clientMax((h) => h.maxLag),
  );
  live('client_max_pending_mutations', 'Largest outbox in the latest telemetry of connected clients.', () =>
    inputs.clientMax((h) => h.pending),
  );
  live(
    'client_max_oldest_pending_seconds',
    'Oldest pending mutation age in the latest telemetry of connected clients.',
    () => inputs.clientMax((h) => h.oldestPendingSeconds),
  );
  new Gauge({
    name: `${prefix}webhook_queue_depth`,
    help: 'Committed changes waiting for webhook delivery (including the one being delivered).',
    labelNames: ['collection'],
    registers,
    collect() {
      this.reset();
      for (const [collection, depth] of sources.webhookQueues()) this.set({ collection }, depth);
    },
  });
}
