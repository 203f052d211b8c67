import { randomBytes } from 'node:crypto';
import { createClient } from 'redis';
import { afterEach, describe, expect, it } from 'vitest';
import { ERROR_CODES } from '@syncline/protocol';
import type { BudgetOptions } from '@syncline/server';
import { startServer, TestClient, type RunningServer } from '@syncline/test-support/server';
import { REDIS_URL } from '@syncline/test-support/databases';

// Finding 4 (budgets): rate limits were per socket only, so reconnecting reset them and nothing
// capped a user or an address. These budgets hold across sockets, reconnects and (with Redis)
// nodes. Development auth makes the token the principal's id, so each test picks its users.

const servers: RunningServer[] = [];
const clients: TestClient[] = [];
afterEach(async () => {
  clients.splice(0).forEach((c) => c.close());
  await Promise.all(servers.splice(0).map((s) => s.stop()));
});

async function start(budgets: BudgetOptions): Promise<string> {
  const running = await startServer({ budgets });
  servers.push(running);
  return running.url;
}

async function connect(url: string, token: string): Promise<TestClient> {
  const c = await TestClient.connect(url, { token });
  clients.push(c);
  return c;
}

/** Connects, expecting a `rate_limited` refusal; returns its message. */
async function refused(url: string, token: string): Promise<string> {
  const err: unknown = await TestClient.connect(url, { token }).then(
    (c) => {
      c.close();
      return undefined;
    },
    (e: unknown) => e,
  );
  expect(err, 'the connection was accepted').toBeInstanceOf(Error);
  const data = (err as { data?: { code?: string; message?: string; retryable?: boolean } }).data;
  expect(data?.code).toBe('rate_limited');
  expect(data?.retryable).toBe(ERROR_CODES.rate_limited.retryable);
  return data?.message ?? '';
}

const user = (name: string) => `${name}-${randomBytes(4).toString('hex')}`;

describe('connection budgets', () => {
  it('counts connections per address across reconnects, whoever connects', async () => {
    const url = await start({ connectionsPerAddress: { points: 3, seconds: 60 } });
    for (const name of ['a', 'b', 'c']) (await connect(url, user(name))).close();
    expect(await refused(url, user('d'))).toMatch(/this address/);
  });

  it('counts connections per principal across reconnects; other users still connect', async () => {
    const url = await start({ connectionsPerPrincipal: { points: 2, seconds: 60 } });
    const alice = user('alice');
    (await connect(url, alice)).close();
    (await connect(url, alice)).close();
    expect(await refused(url, alice)).toMatch(/this user/);
    expect(await (await connect(url, user('bob'))).hash('team:a')).toMatchObject({ ok: true });
  });

  it('can turn a budget off', async () => {
    const url = await start({ connectionsPerAddress: false, connectionsPerPrincipal: false });
    for (let i = 0; i < 5; i++) (await connect(url, 'carol')).close();
    expect(await (await connect(url, 'carol')).hash('team:a')).toMatchObject({ ok: true });
  });
});

describe('event budget per principal', () => {
  it('holds over all of a user’s sockets and survives a reconnect', async () => {
    const url = await start({ eventsPerPrincipal: { points: 6, seconds: 60 } });
    const alice = user('alice');
    const [one, two] = [await connect(url, alice), await connect(url, alice)];
    for (let i = 0; i < 3; i++) {
      expect(await one.hash('team:a')).toMatchObject({ ok: true });
      expect(await two.hash('team:a')).toMatchObject({ ok: true });
    }
    expect(await one.hash('team:a')).toMatchObject({ ok: false, error: { code: 'rate_limited' } });
    one.close();
    two.close();
    const again = await connect(url, alice);
    const res = await again.hash('team:a');
    expect(res).toMatchObject({ ok: false, error: { code: 'rate_limited', retryable: true } });
    // Another user is not affected.
    expect(await (await connect(url, user('bob'))).hash('team:a')).toMatchObject({ ok: true });
  });

  it.runIf(REDIS_URL)('is shared by nodes through Redis', async () => {
    const redis = createClient({ url: REDIS_URL! });
    redis.on('error', () => undefined);
    await redis.connect();
    try {
      const budgets: BudgetOptions = { eventsPerPrincipal: { points: 4, seconds: 60 }, redis };
      const [a, b] = [await start(budgets), await start(budgets)];
      const alice = user('alice');
      const [onA, onB] = [await connect(a, alice), await connect(b, alice)];
      for (let i = 0; i < 2; i++) {
        expect(await onA.hash('team:a')).toMatchObject({ ok: true });
        expect(await onB.hash('team:a')).toMatchObject({ ok: true });
      }
      expect(await onA.hash('team:a')).toMatchObject({ ok: false, error: { code: 'rate_limited' } });
      expect(await onB.hash('team:a')).toMatchObject({ ok: false, error: { code: 'rate_limited' } });
    } finally {
      clients.splice(0).forEach((c) => c.close());
      await Promise.all(servers.splice(0).map((s) => s.stop()));
      await redis.close();
    }
  });
});
