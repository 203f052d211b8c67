import { describe, expect, it } from 'vitest';
import { CLIENT_EVENTS } from './events.js';
import { ERROR_CODES } from './error-codes.js';
import { DEFAULT_LIMITS } from './limits.js';
import { FeedChangeSchema, FeedLineSchema } from './messages/change-feed.js';
import { ServerWriteRequestSchema } from './messages/server-write.js';
import { TelemetryReportSchema } from './messages/telemetry.js';
import { validateMessage } from './validate.js';

const change = {
  scope: 'team:a',
  collection: 'cards',
  id: 'c1',
  version: 4,
  prevVersion: 2,
  op: 'delete',
  value: null,
  clientId: 'backend-job-1',
  mid: 9,
  userId: 'backend',
  serverTime: 1_700_000_000_000,
  conflict: null,
  restoredFrom: null,
};

describe('integration messages (additive to protocol 1)', () => {
  it('adds the telemetry event and the HTTP error codes without touching existing ones', () => {
    expect(CLIENT_EVENTS).toEqual([
      'push',
      'pull',
      'subscribe',
      'unsubscribe',
      'history',
      'hash',
      'telemetry',
      'reauth', // protocol 4
      'presence_set', // additive: presence
      'presence_leave',
      'presence_watch',
      'query', // additive: read-through queries
    ]);
    expect(ERROR_CODES.cursor_unavailable.retryable).toBe(false);
    expect(ERROR_CODES.unknown_route.retryable).toBe(false);
  });

  it('describes a feed change as a history entry with its address, and the JSON-lines events', () => {
    expect(FeedChangeSchema.parse(change)).toEqual(change);
    expect(FeedChangeSchema.safeParse({ ...change, scope: 'bad scope' }).success).toBe(false);
    for (const line of [
      { type: 'change', change },
      { type: 'caught_up', version: 4 },
      { type: 'heartbeat' },
      { type: 'error', error: { code: 'cursor_unavailable', message: 'pruned', retryable: false } },
    ]) {
      expect(FeedLineSchema.safeParse(line).success, line.type).toBe(true);
    }
    expect(FeedLineSchema.safeParse({ type: 'nope' }).success).toBe(false);
  });

  it('checks the server-write envelope strictly; mutations are validated as a push later', () => {
    const ok = validateMessage(
      ServerWriteRequestSchema,
      { clientId: 'job-0001', mutations: [{}] },
      DEFAULT_LIMITS,
    );
    expect(ok.ok).toBe(true);
    for (const bad of [
      { mutations: [] },
      { mutations: [{}], extra: 1 },
      { clientId: 'x', mutations: [{}] },
    ]) {
      expect(validateMessage(ServerWriteRequestSchema, bad, DEFAULT_LIMITS)).toMatchObject({
        ok: false,
        error: { code: 'invalid_message' },
      });
    }
  });

  it('bounds telemetry reports', () => {
    const report = {
      scopes: [{ scope: 'team:a', cursor: 3, head: 5 }],
      pending: 0,
      oldestPendingAgeMs: null,
      pushLatencyMs: 12.5,
      conflictRate: 0.1,
    };
    expect(TelemetryReportSchema.parse(report)).toEqual(report);
    expect(TelemetryReportSchema.safeParse({ ...report, pushLatencyMs: Infinity }).success).toBe(false);
    expect(TelemetryReportSchema.safeParse({ ...report, conflictRate: -0.1 }).success).toBe(false);
    expect(TelemetryReportSchema.safeParse({ ...report, pending: 0.5 }).success).toBe(false);
  });
});
