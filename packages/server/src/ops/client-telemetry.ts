import type { ScopeId, TelemetryReport } from '@syncline/protocol';

/** One connected client's latest telemetry, reduced to what the `client_max_*` gauges read. */
export interface ClientHealth {
  /** Largest head-minus-cursor over the scopes the client is subscribed to. */
  readonly maxLag: number;
  /** Mutations in its outbox. */
  readonly pending: number;
  /** Age of its oldest pending mutation, in seconds (0 when it reported none). */
  readonly oldestPendingSeconds: number;
}

/**
 * The latest telemetry summary of each connected client, keyed by connection. Kept per
 * connection so the gauges show the worst client right now, never exported per client (a
 * client id is not a label), and dropped when the socket disconnects.
 */
export class ClientTelemetry {
  readonly #clients = new Map<string, ClientHealth>();

  /**
   * Keeps `report` as the connection's latest summary and returns the lag of each scope it
   * reports that the connection is subscribed to (others are ignored: a client cannot inflate
   * the figures with scopes it does not follow).
   */
  record(connection: string, report: TelemetryReport, subscribed: (scope: ScopeId) => boolean): number[] {
    const lags: number[] = [];
    for (const s of report.scopes) {
      if (!subscribed(s.scope)) continue;
      lags.push(Math.max(0, s.head - s.cursor));
    }
    this.#clients.set(connection, {
      maxLag: lags.reduce((m, lag) => Math.max(m, lag), 0),
      pending: report.pending,
      oldestPendingSeconds: (report.oldestPendingAgeMs ?? 0) / 1000,
    });
    return lags;
  }

  /** Drops a disconnected client's summary. */
  forget(connection: string): void {
    this.#clients.delete(connection);
  }

  /** The largest `pick` over connected clients' summaries; 0 with none. */
  max(pick: (h: ClientHealth) => number): number {
    let m = 0;
    for (const h of this.#clients.values()) m = Math.max(m, pick(h));
    return m;
  }
}
