/**
 * B2 (two Chromium pages) durable floor page: the hand-written client of `durable-replica.ts` on
 * real IndexedDB, against the durable floor server (SQLite WAL, synchronous=FULL, committed
 * before forwarding). Query: `floor` = server URL, `role` (`writer` | `observer`). The writer
 * commits row + outbox entry strict, then sends from memory; the observer applies row + cursor
 * relaxed and notes when its Dexie `liveQuery` on the row re-runs with each revision.
 */
import { liveQuery } from 'dexie';
import { io } from 'socket.io-client';
import { DurableFloorReplica, openFloorDb } from './durable-replica.js';
import type { B2PageApi } from './page-api.js';
import { exposeBench, sharedNow, sleep } from './page-runtime.js';
import { revisionLog } from './page-revisions.js';
import { benchCard, type BenchCard } from './records.js';

exposeBench(async () => {
  const query = new URLSearchParams(location.search);
  const url = query.get('floor');
  if (url === null) throw new Error('need ?floor=');
  const observer = query.get('role') === 'observer';
  const name = `b2-durable-${observer ? 'observer' : 'writer'}`;
  const db = openFloorDb<BenchCard>(name, observer ? 'relaxed' : 'strict');
  await db.open();
  const socket = io(url, { transports: ['websocket'], reconnection: false });
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('connect_error', reject);
  });
  const replica = new DurableFloorReplica<BenchCard>(db, socket, name);
  const log = revisionLog();
  const id = benchCard(0).id;
  if (observer) liveQuery(() => db.cards.get(id)).subscribe({ next: (value) => log.note(value) });
  const api: B2PageApi = {
    seen: async (rev, timeoutMs) => {
      if (replica.failure !== undefined) throw replica.failure;
      return log.api.seen(rev, timeoutMs);
    },
    write: async (rev) => {
      const at = sharedNow();
      await replica.write(benchCard(0, rev));
      return at;
    },
    drained: async (timeoutMs) => {
      const until = performance.now() + timeoutMs;
      await replica.settled();
      while ((await db.outbox.count()) > 0) {
        if (performance.now() > until) throw new Error(`outbox not drained within ${timeoutMs} ms`);
        await sleep(1);
      }
    },
  };
  return api;
});
