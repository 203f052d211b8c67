import type { Logger } from '../ops/logger.js';
import type { HealthReport, LivenessReport } from '../ops/health.js';
import type { Timers } from '../ops/timers.js';
import type { ChangeFeedDeps } from '../feed/change-feed.js';
import type { QueryDeps } from '../query/run-query.js';
import type { PushDeps } from '../sync/run-push.js';

/** Everything the HTTP routes need, built once per server. */
export interface HttpContext extends PushDeps, QueryDeps {
  readonly logger: Logger;
  readonly timers: Timers;
  /** Browser origins allowed besides same-origin (`cors.origins`). */
  readonly origins: readonly string[];
  readonly feed: ChangeFeedDeps;
  /** Idle change-feed streams get a heartbeat this often. */
  readonly heartbeatMs: number;
  /** Largest request body, in bytes. */
  readonly maxBodyBytes: number;
  /** Aborted when the server starts shutting down: streams end, new requests are refused. */
  readonly closing: AbortSignal;
  /** `false`: no `/metrics` route. A string: scrapes must send it as a bearer token. */
  readonly metricsAccess: false | { readonly token?: string };
  liveness(): LivenessReport;
  readiness(): Promise<HealthReport>;
  /** Registers in-flight writes, so shutdown waits for them to answer. */
  track(p: Promise<unknown>): void;
}
