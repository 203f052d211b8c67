import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import {
  type ErrorCode,
  type Mutation,
  type MutationResult,
  type ScopeId,
  type TelemetryReport,
} from '@syncline/protocol';
import { ClientTelemetry } from './client-telemetry.js';
import { sharedProcessMetrics } from './process-metrics.js';
import { registerScrapeGauges, type MetricsSources } from './scrape-gauges.js';

/** Who made a write: a connected client over the socket, or a backend through the server-write API. */
export type WriteSource = 'client' | 'server';

export interface MetricsOptions {
  readonly nodeId: string;
  readonly storageKind: string;
  /** Collection names that may appear as a label; any other collection is counted as `other`. */
  readonly collections: readonly string[];
  /** Also export prom-client's process metrics (memory, CPU, event-loop lag, GC), prefixed `syncline_`. */
  readonly defaultMetrics: boolean;
  readonly sources: MetricsSources;
}

/** Every metric name starts with this. */
export const METRIC_PREFIX = 'syncline_';

/** Label value of a collection that is not configured on the server (keeps cardinality bounded). */
export const OTHER_COLLECTION = 'other';

const LATENCY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const FANOUT_BUCKETS = [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5];
const BATCH_BUCKETS = [1, 2, 5, 10, 25, 50, 100, 250, 500, 1000];
const LAG_BUCKETS = [0, 1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 5000, 10_000, 100_000];

/**
 * The server's Prometheus metrics, on a registry of its own (never prom-client's global one), so
 * several servers in one process do not collide and an app's own metrics stay separate.
 *
 * Conventions: every name starts with `syncline_`, carries its unit (`_seconds`, `_bytes`,
 * `_versions`, `_mutations`) and counters end in `_total`. Labels have bounded values only:
 * a collection label is a configured collection or `other`; never a scope, record id, client id
 * or user id.
 */
export class ServerMetrics {
  readonly registry = new Registry();
  readonly #collections: ReadonlySet<string>;
  readonly #telemetry = new ClientTelemetry();

  readonly requests: Counter<'event' | 'result'>;
  readonly http: Counter<'route' | 'status'>;
  readonly pushBatch: Histogram<'source'>;
  readonly pushLatency: Histogram<'source'>;
  readonly received: Counter<'collection' | 'source'>;
  readonly results: Counter<'collection' | 'status' | 'source'>;
  readonly rejections: Counter<'collection' | 'code'>;
  readonly committed: Counter<'collection' | 'source'>;
  readonly fanoutLatency: Histogram;
  readonly fanoutChanges: Counter;
  readonly pullPages: Counter;
  readonly pullRows: Counter;
  readonly pullResets: Counter;
  readonly pullLag: Histogram;
  readonly clientLag: Histogram;
  readonly telemetryReports: Counter;
  readonly storageErrors: Counter<'operation'>;
  readonly feedStreams: Gauge<'api'>;
  readonly feedChanges: Counter<'api'>;
  readonly webhookAttempts: Counter<'collection' | 'outcome'>;
  readonly webhookDeliveries: Counter<'collection' | 'result'>;
  readonly webhookLatency: Histogram<'collection'>;
  readonly sinkPublished: Counter<'sink'>;
  readonly sinkErrors: Counter<'sink' | 'stage'>;
  readonly sinkLag: Gauge<'sink'>;
  readonly sinkLatency: Histogram<'sink'>;
  readonly sinkActive: Gauge<'sink'>;

  constructor(opts: MetricsOptions) {
    this.#collections = new Set(opts.collections);
    const registers = [this.registry];
    const counter = <L extends string>(name: string, help: string, labelNames: readonly L[] = []) =>
      new Counter<L>({ name: METRIC_PREFIX + name, help, labelNames, registers });
    const histogram = <L extends string>(
      name: string,
      help: string,
      buckets: number[],
      labelNames: readonly L[] = [],
    ) => new Histogram<L>({ name: METRIC_PREFIX + name, help, labelNames, buckets, registers });

    registerScrapeGauges(this.registry, {
      prefix: METRIC_PREFIX,
      nodeId: opts.nodeId,
      storageKind: opts.storageKind,
      sources: opts.sources,
      clientMax: (pick) => this.#telemetry.max(pick),
    });

    this.requests = counter(
      'requests_total',
      'Socket events handled, by event and result (ok or error code).',
      ['event', 'result'],
    );
    this.http = counter('http_requests_total', 'HTTP requests to Syncline routes, by route and status.', [
      'route',
      'status',
    ]);
    this.pushBatch = histogram(
      'push_batch_mutations',
      'Mutations per accepted push (after validation).',
      BATCH_BUCKETS,
      ['source'],
    );
    this.pushLatency = histogram(
      'push_latency_seconds',
      'From receiving a push to sending its acknowledgement (validation, transaction, commit).',
      LATENCY_BUCKETS,
      ['source'],
    );
    this.received = counter('mutations_received_total', 'Mutations in accepted pushes.', [
      'collection',
      'source',
    ]);
    this.results = counter(
      'mutation_results_total',
      'Mutation outcomes: applied, merged, conflict, rejected, duplicate.',
      ['collection', 'status', 'source'],
    );
    this.rejections = counter('mutation_rejections_total', 'Rejected mutations by error code.', [
      'collection',
      'code',
    ]);
    this.committed = counter(
      'changes_committed_total',
      'Changes committed (versions allocated), i.e. write throughput.',
      ['collection', 'source'],
    );
    this.fanoutLatency = histogram(
      'fanout_latency_seconds',
      'From a commit to its changes handed to every subscribed socket on this node.',
      FANOUT_BUCKETS,
    );
    this.fanoutChanges = counter('fanout_changes_total', 'Changes broadcast to scope subscribers.');
    this.pullPages = counter('pull_pages_total', 'Pull pages served.');
    this.pullRows = counter('pull_rows_total', 'Records returned by pulls.');
    this.pullResets = counter(
      'pull_resets_total',
      'Pulls answered with reset (client copy must start over).',
    );
    this.pullLag = histogram(
      'pull_lag_versions',
      'Head minus cursor of each pull request, as the server sees it.',
      LAG_BUCKETS,
    );
    this.clientLag = histogram(
      'client_lag_versions',
      'Scope lag (head minus durable cursor) reported by clients, one observation per scope and report.',
      LAG_BUCKETS,
    );
    this.telemetryReports = counter('client_telemetry_reports_total', 'Telemetry reports accepted.');
    this.storageErrors = counter('storage_errors_total', 'Storage operations that failed, by operation.', [
      'operation',
    ]);
    this.feedStreams = new Gauge({
      name: `${METRIC_PREFIX}change_feed_streams`,
      help: 'Open change-feed readers (HTTP streams and Node iterators).',
      labelNames: ['api'],
      registers,
    });
    this.feedChanges = counter('change_feed_changes_total', 'Changes delivered by change feeds.', ['api']);
    this.webhookAttempts = counter(
      'webhook_attempts_total',
      'Webhook POST attempts by outcome (success, http_error, network_error).',
      ['collection', 'outcome'],
    );
    this.webhookDeliveries = counter(
      'webhook_deliveries_total',
      'Webhook deliveries settled: delivered, gave_up (attempts exhausted) or dropped (queue full).',
      ['collection', 'result'],
    );
    this.webhookLatency = histogram(
      'webhook_delivery_latency_seconds',
      'From commit to the successful webhook delivery, retries included.',
      [0.01, 0.05, 0.1, 0.5, 1, 5, 15, 60, 300, 1800],
      ['collection'],
    );

    // Sink labels are sink names from the server's configuration: bounded by it.
    this.sinkPublished = counter(
      'sink_published_total',
      'Changes a broker sink published and the broker confirmed.',
      ['sink'],
    );
    this.sinkErrors = counter(
      'sink_errors_total',
      'Broker sink failures by stage (connect, publish, storage, transform, retention); each is retried.',
      ['sink', 'stage'],
    );
    this.sinkLag = new Gauge({
      name: `${METRIC_PREFIX}sink_lag_changes`,
      help: 'Committed changes a broker sink has not published yet (as of its last look at storage).',
      labelNames: ['sink'],
      registers,
    });
    this.sinkLatency = histogram(
      'sink_publish_lag_seconds',
      'From commit (server time) to the broker confirming the sink published the change.',
      [0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 15, 60, 300, 1800],
      ['sink'],
    );
    this.sinkActive = new Gauge({
      name: `${METRIC_PREFIX}sink_active`,
      help: '1 while this node runs the sink (it holds the cluster-wide sink lock), else 0.',
      labelNames: ['sink'],
      registers,
    });

    if (opts.defaultMetrics)
      for (const m of sharedProcessMetrics(METRIC_PREFIX)) this.registry.registerMetric(m);
  }

  /** The label value for a collection: itself when configured on the server, `other` otherwise. */
  collection(name: string): string {
    return this.#collections.has(name) ? name : OTHER_COLLECTION;
  }

  /** Counts an accepted push: its size, each mutation's collection, and each result. */
  recordPush(source: WriteSource, mutations: readonly Mutation[], results: readonly MutationResult[]): void {
    this.pushBatch.observe({ source }, mutations.length);
    const byMid = new Map<number, string>();
    for (const m of mutations) {
      const collection = this.collection(m.collection);
      byMid.set(m.mid, collection);
      this.received.inc({ collection, source });
    }
    for (const r of results) {
      const collection = byMid.get(r.mid) ?? OTHER_COLLECTION;
      this.results.inc({ collection, status: r.status, source });
      if (r.status === 'rejected') this.rejections.inc({ collection, code: r.error.code });
    }
  }

  recordCommitted(source: WriteSource, changes: readonly { readonly collection: string }[]): void {
    for (const c of changes) this.committed.inc({ collection: this.collection(c.collection), source });
  }

  recordRequest(event: string, result: 'ok' | ErrorCode): void {
    this.requests.inc({ event, result });
  }

  /**
   * Folds one client's telemetry in: each subscribed scope's lag goes into the lag histogram, and
   * the client's latest summary (kept per connection, never exported per client) feeds the
   * `client_max_*` gauges until `forgetClient`.
   */
  reportTelemetry(
    connection: string,
    report: TelemetryReport,
    subscribed: (scope: ScopeId) => boolean,
  ): void {
    for (const lag of this.#telemetry.record(connection, report, subscribed)) this.clientLag.observe(lag);
    this.telemetryReports.inc();
  }

  /** Drops a disconnected client's latest telemetry. */
  forgetClient(connection: string): void {
    this.#telemetry.forget(connection);
  }

  /** The exposition text and its content type. */
  async scrape(): Promise<{ readonly contentType: string; readonly body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}
