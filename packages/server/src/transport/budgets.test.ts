import { describe, expect, it } from 'vitest';
import { silentLogger } from '../ops/logger.js';
import { Budgets, DEFAULT_BUDGETS } from './budgets.js';

// With auth hooks the defaults hold; in development auth (one principal, usually one address:
// a local load test such as the bench's 4,000 subscribers) only budgets named explicitly do.
async function admittedOf(budgets: Budgets, attempts: number): Promise<number> {
  let admitted = 0;
  for (let i = 0; i < attempts; i++) if ((await budgets.admitAddress('127.0.0.1')) === undefined) admitted++;
  return admitted;
}

describe('budget defaults', () => {
  const limit = DEFAULT_BUDGETS.connectionsPerAddress.points;

  it('apply the default per-address budget when the server has auth hooks', async () => {
    expect(await admittedOf(new Budgets(undefined, silentLogger, false), limit + 5)).toBe(limit);
  });

  it('apply no default budget in development auth mode', async () => {
    const dev = new Budgets(undefined, silentLogger, true);
    expect(await admittedOf(dev, limit + 5)).toBe(limit + 5);
    for (let i = 0; i < DEFAULT_BUDGETS.connectionsPerPrincipal.points + 5; i++)
      expect(await dev.admitPrincipal('dev')).toBeUndefined();
  });

  it('apply a budget named explicitly, also in development auth mode', async () => {
    const dev = new Budgets({ connectionsPerAddress: { points: 3, seconds: 60 } }, silentLogger, true);
    expect(await admittedOf(dev, 5)).toBe(3);
  });
});
