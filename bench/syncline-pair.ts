/**
 * B2's Syncline contender: two Node devices (real SyncClient, fake-indexeddb) against the real
 * server CLI; B observes through a Dexie live query, as an app's UI would.
 */
import { filter, firstValueFrom } from 'rxjs';
import { card } from './cards.js';
import type { PropagationPair } from './pair.js';
import { SQLITE_DURABILITY, synclineServer } from './syncline-server.js';
import { device, until, settled } from './syncline-device.js';

export async function synclinePair(): Promise<PropagationPair> {
  const server = await synclineServer();
  const [a, b] = await Promise.all([device(server.url), device(server.url)]).catch(async (err: unknown) => {
    await server.stop();
    throw err;
  });
  const close = async () => {
    await Promise.allSettled([a.close(), b.close()]);
    await server.stop();
  };
  try {
    await Promise.all([until(a, settled, 20_000, 'A live'), until(b, settled, 20_000, 'B live')]);
  } catch (err) {
    await close();
    throw err;
  }
  return {
    row: {
      name: 'syncline',
      kind: 'syncline',
      label: 'SyncClient A → syncline-server (SQLite) → SyncClient B live query (Node, fake-indexeddb)',
      durability: `${SQLITE_DURABILITY}; clients: fake-indexeddb (memory)`,
    },
    async propagate(id, seq) {
      const query = b.sync.liveQuery(() => b.db.cards.get(id));
      // The first emission is the current value: wait for it, so the clock times propagation only.
      let armed!: () => void;
      const isArmed = new Promise<void>((r) => (armed = r));
      const seen = firstValueFrom(
        query.pipe(
          filter((v, i) => {
            if (i === 0) armed();
            return v?.seq === seq;
          }),
        ),
      );
      await isArmed;
      const t0 = performance.now();
      await a.db.cards.put(card(id, seq));
      await seen;
      return performance.now() - t0;
    },
    close,
  };
}
