import { firstValueFrom } from 'rxjs';
import { afterEach, describe, expect, it } from 'vitest';
import { asScopeId } from '@syncline/protocol';
// devices installs fake-indexeddb: it must load before Dexie (via the client) does.
import { device, SCOPE, until, type Device } from '@syncline/test-support/devices';
import { startServer, TestClient, type RunningServer } from '@syncline/test-support/server';
import { eventually } from '@syncline/test-support';

const servers: RunningServer[] = [];
const devices: Device[] = [];
const raw: TestClient[] = [];
afterEach(async () => {
  raw.splice(0).forEach((c) => c.close());
  for (const d of devices.splice(0)) await d.sync.close();
  for (const s of servers.splice(0)) await s.stop();
});

// A client id is bound to the first principal that writes with it. A push refused with
// `client_id_mismatch` is about who the device is, not about what it sends: the writes must stay
// queued as they are, never quarantined or rolled back as if their content were bad, and the
// client keeps reporting why nothing syncs.
describe('a push refused because the client id belongs to another user', () => {
  it('keeps the writes queued and reports the error', async () => {
    const server = await startServer();
    servers.push(server);
    const alice = device(server.url, { client: { token: 'alice' } });
    devices.push(alice);
    await alice.sync.start();
    await until(alice.sync, (s) => s.phase === 'live');
    // Another user's socket claims the same id by writing first (alice has not written yet).
    const bob = await TestClient.connect(server.url, { clientId: alice.sync.clientId, token: 'bob' });
    raw.push(bob);
    const [bobs] = await bob.write({
      scope: SCOPE,
      collection: 'cards',
      id: 'b1',
      op: 'put',
      base: 0,
      value: { id: 'b1', board: '1', title: 'bob' },
    } as never);
    expect(bobs?.status).toBe('applied');

    let refusals = 0;
    const sub = alice.sync.errors$.subscribe((e) => {
      if (e.code === 'client_id_mismatch') refusals++;
    });
    await alice.db.cards.put({ id: 'a1', board: '1', title: 'alice' });
    // Refused, retried after backoff and refused again: whatever the engine did after the first
    // refusal, it has done by now.
    await eventually(() => refusals >= 3, 'three client_id_mismatch refusals', 15_000);
    sub.unsubscribe();
    const stuck = await until(alice.sync, () => true);
    expect(stuck.lastError?.code).toBe('client_id_mismatch');
    expect(stuck.pending).toBe(1);
    expect(await alice.db.cards.get('a1')).toEqual({ id: 'a1', board: '1', title: 'alice' });
    expect(await server.storage.getRecord(asScopeId(SCOPE), 'cards', 'a1')).toBeUndefined();
    // Nothing was turned into a rejection, and the queued mutation is still the write itself (not
    // a placeholder): the content was never refused.
    expect(stuck.rejections).toBe(0);
    const [queued] = await firstValueFrom(alice.sync.outbox$);
    expect(queued?.mutation).toMatchObject({ op: 'put', id: 'a1', value: { title: 'alice' } });
  });
});
