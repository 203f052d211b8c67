import type { TelemetryReport } from '@syncline/protocol';
import { request, type ClientSocket } from './transport.js';

/**
 * Sends the engine's telemetry reports. Best effort: it never disturbs sync, failures are
 * ignored, and a server that does not know the event (an older server) is not asked again on
 * that connection.
 */
export class TelemetrySender {
  /** The socket whose server refused telemetry as an unknown event. */
  #refused: ClientSocket | undefined;

  constructor(private readonly timeoutMs: number) {}

  /** Sends `report` on `socket` if it is connected (and its server takes telemetry). */
  async send(socket: ClientSocket | undefined, report: TelemetryReport): Promise<void> {
    if (!socket?.connected || this.#refused === socket) return;
    try {
      const res = await request(socket, 'telemetry', report, this.timeoutMs);
      if (!res.ok && res.error.code === 'unknown_event') this.#refused = socket;
    } catch {
      // Telemetry never disturbs sync.
    }
  }
}
