import { describe, expect, it } from 'vitest';
import { asScopeId, asVersion, type ScopeId, type TelemetryReport } from '@syncline/protocol';
import { ClientTelemetry } from './client-telemetry.js';

const report = (
  scopes: readonly { scope: string; head: number; cursor: number }[],
  pending = 0,
  oldestPendingAgeMs: number | null = null,
): TelemetryReport => ({
  scopes: scopes.map((s) => ({
    scope: asScopeId(s.scope),
    head: asVersion(s.head),
    cursor: asVersion(s.cursor),
  })),
  pending,
  oldestPendingAgeMs,
  pushLatencyMs: null,
  conflictRate: 0,
});

const only =
  (...names: string[]) =>
  (scope: ScopeId) =>
    names.includes(scope);

describe('ClientTelemetry', () => {
  it('returns the lag of subscribed scopes only, never negative', () => {
    const t = new ClientTelemetry();
    const lags = t.record(
      'a',
      report([
        { scope: 's1', head: 10, cursor: 4 },
        { scope: 's2', head: 50, cursor: 0 },
        { scope: 's3', head: 3, cursor: 5 },
      ]),
      only('s1', 's3'),
    );
    expect(lags).toEqual([6, 0]);
    expect(t.max((h) => h.maxLag)).toBe(6);
  });

  it('keeps the latest report per connection and the worst over connections', () => {
    const t = new ClientTelemetry();
    t.record('a', report([], 3, 2500), only());
    t.record('b', report([], 7, 500), only());
    expect(t.max((h) => h.pending)).toBe(7);
    expect(t.max((h) => h.oldestPendingSeconds)).toBe(2.5);
    t.record('b', report([], 1, null), only());
    expect(t.max((h) => h.pending)).toBe(3);
    expect(t.max((h) => h.oldestPendingSeconds)).toBe(2.5);
  });

  it('forgets a connection, and reads 0 with nobody connected', () => {
    const t = new ClientTelemetry();
    t.record('a', report([{ scope: 's', head: 9, cursor: 1 }], 4), only('s'));
    t.forget('a');
    expect(t.max((h) => h.maxLag)).toBe(0);
    expect(t.max((h) => h.pending)).toBe(0);
  });
});
