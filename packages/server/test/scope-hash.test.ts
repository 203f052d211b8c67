import { afterEach, describe, expect, it } from 'vitest';
import { scopeHash, type ClientId, type ScopeId, type Version } from '@syncline/protocol';
import { MemoryStorage, type StoredRecord } from '@syncline/server';
import { startServer, TestClient, type RunningServer } from '@syncline/test-support/server';

let running: RunningServer | undefined;
const clients: TestClient[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await running?.stop();
  running = undefined;
});

/** Memory storage that counts every record it hands out through reads (walks and pulls). */
class CountingStorage extends MemoryStorage {
  recordsRead = 0;
  override async *liveRecords(scope: ScopeId): AsyncIterable<StoredRecord> {
    for await (const r of super.liveRecords(scope)) {
      this.recordsRead++;
      yield r;
    }
  }
  override async pull(scope: ScopeId, after: Version, limit: number, clientId?: ClientId) {
    const page = await super.pull(scope, after, limit, clientId);
    this.recordsRead += page.records.length;
    return page;
  }
}

const SCOPE = 'team:hash';

describe('hash', () => {
  it('reads no record for an unchanged scope and only the changed ones after a write', async () => {
    const storage = new CountingStorage();
    running = await startServer({ storage: storage });
    const c = await TestClient.connect(running.url);
    clients.push(c);
    const put = (id: string, n: number) =>
      ({ scope: SCOPE, collection: 'notes', id, op: 'put', base: 0, value: { n } }) as const;
    await c.push(c.mutations(...Array.from({ length: 200 }, (_, i) => put(`r${i}`, i))));
    const first = await c.hash(SCOPE);
    const live: StoredRecord[] = [];
    for await (const r of storage.liveRecords(SCOPE as ScopeId)) live.push(r);
    expect(first).toEqual({
      ok: true,
      scope: SCOPE,
      ...scopeHash(live.map((r) => ({ ...r, value: r.value! }))),
      head: 200,
    });

    storage.recordsRead = 0;
    expect(await c.hash(SCOPE)).toEqual(first);
    expect(storage.recordsRead).toBe(0);

    await c.push(c.mutations({ ...put('r7', 700), base: 8 }));
    storage.recordsRead = 0;
    const second = await c.hash(SCOPE);
    expect(second).toMatchObject({ ok: true, count: 200, head: 201 });
    expect(second.ok && second.hash).not.toBe(first.ok && first.hash);
    expect(storage.recordsRead).toBe(1);
  });
});
