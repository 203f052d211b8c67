/**
 * B2 (two Chromium pages) RxDB peer page: RxDB on its Dexie storage (Chromium's default
 * durability), replicating `cards` live over RxDB's websocket replication to the RxDB server
 * process B2's Node peer uses (memory storage). Query: `rxdb` = websocket URL, `role` (`writer` |
 * `observer`). The observer notes when `findOne(id).$` emits each revision.
 */
import { replicateWithWebsocketServer } from 'rxdb/plugins/replication-websocket';
import type { B2PageApi } from './page-api.js';
import { exposeBench, sharedNow } from './page-runtime.js';
import { revisionLog } from './page-revisions.js';
import { openRxCards } from './page-rxdb.js';
import { benchCard } from './records.js';

exposeBench(async () => {
  const query = new URLSearchParams(location.search);
  const url = query.get('rxdb');
  if (url === null) throw new Error('need ?rxdb=');
  const role = query.get('role') === 'observer' ? 'observer' : 'writer';
  const cards = await openRxCards(`b2rxdb${role}`, 'default');
  const state = await replicateWithWebsocketServer({
    collection: cards,
    url,
    replicationIdentifier: 'bench-cards',
    live: true,
  });
  await state.awaitInitialReplication();
  const log = revisionLog();
  const id = benchCard(0).id;
  if (role === 'observer') cards.findOne(id).$.subscribe((doc) => log.note(doc?.toJSON()));
  const api: B2PageApi = {
    ...log.api,
    write: async (rev) => {
      const at = sharedNow();
      await cards.upsert({ ...benchCard(0, rev) });
      return at;
    },
    drained: async (timeoutMs) => {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const late = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`RxDB not in sync within ${timeoutMs} ms`)), timeoutMs);
      });
      await Promise.race([state.awaitInSync(), late]).finally(() => clearTimeout(timer));
    },
  };
  return api;
});
