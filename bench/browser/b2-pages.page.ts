/**
 * B2 (two Chromium pages) page: a Syncline client in its own browser context. Query: `sync` =
 * server URL, `scope`, `durability` (`strict` | `relaxed`), `role` (`writer` | `observer`). The
 * observer keeps a live query on the shared record and notes, on the clock all pages of one
 * browser share, when each revision first shows; a wrong value fails the run.
 */
import type { B2PageApi } from './page-api.js';
import { exposeBench, sharedNow } from './page-runtime.js';
import { revisionLog } from './page-revisions.js';
import { openSyncline, outboxDrained, type Durability } from './page-syncline.js';
import { benchCard } from './records.js';

exposeBench(async () => {
  const query = new URLSearchParams(location.search);
  const url = query.get('sync');
  const scope = query.get('scope');
  if (url === null || scope === null) throw new Error('need ?sync= and ?scope=');
  const durability = (query.get('durability') ?? 'strict') as Durability;
  const { db, sync } = await openSyncline({ name: 'b2', url, scope, durability });
  const log = revisionLog();
  const id = benchCard(0).id;
  if (query.get('role') === 'observer') {
    sync.liveQuery(() => db.cards.get(id)).subscribe({ next: (value) => log.note(value) });
  }
  const api: B2PageApi = {
    ...log.api,
    write: async (rev) => {
      const at = sharedNow();
      await db.cards.put(benchCard(0, rev));
      return at;
    },
    drained: (timeoutMs) => outboxDrained(db, timeoutMs),
  };
  return api;
});
