import * as z from 'zod';
import { ScopeIdSchema, VersionSchema } from '../ids.js';
import { okResponse } from './response.js';

/** The most scopes one report describes (the same bound as one subscribe). */
export const MAX_TELEMETRY_SCOPES = 256;

/** A finite, non-negative duration in milliseconds (at most ~31 years, so never Infinity). */
const Millis = z.number().min(0).max(1e12);

/**
 * A client's compact summary of its own sync health, sent now and then (see the client's
 * `telemetry` option) so the server can export it as metrics. Optional: servers that do not
 * know the event answer `unknown_event`, and the client then stops reporting.
 *
 * The server keeps no per-client series: it folds each report into bounded-cardinality
 * metrics (never labelled by scope or client) and ignores scopes the socket is not subscribed to.
 */
export const TelemetryReportSchema = z.strictObject({
  /**
   * Per subscribed scope: the client's durable cursor and the newest head it has heard of
   * (from subscribe, pull or live changes). Its lag is `head - cursor`.
   */
  scopes: z
    .array(z.strictObject({ scope: ScopeIdSchema, cursor: VersionSchema, head: VersionSchema }))
    .max(MAX_TELEMETRY_SCOPES),
  /** Mutations waiting in the outbox. */
  pending: z.int().min(0).max(Number.MAX_SAFE_INTEGER),
  /** Age of the oldest pending mutation, or null when the outbox is empty. */
  oldestPendingAgeMs: Millis.nullable(),
  /** Mean push round trip (request to acknowledgement) over recent pushes; null before the first. */
  pushLatencyMs: Millis.nullable(),
  /** Share of recent push results that were concurrent (`merged` or `conflict`), 0…1. */
  conflictRate: z.number().min(0).max(1),
});
/** The TypeScript type of `TelemetryReportSchema`. */
export type TelemetryReport = z.infer<typeof TelemetryReportSchema>;

/** The answer to a telemetry report. */
export const TelemetryResponseSchema = okResponse({});
/** The TypeScript type of `TelemetryResponseSchema`. */
export type TelemetryResponse = z.infer<typeof TelemetryResponseSchema>;
