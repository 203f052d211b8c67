/**
 * B1 page for the RxDB peer: RxDB on its Dexie storage (with its own pinned Dexie copy, which is
 * why it is not in the Syncline page), upsert → `findOne().$`, with RxDB's default durability and
 * with strict.
 */
import type { B1Variant } from './page-api.js';
import type { Target } from './page-measure.js';
import { exposeBench } from './page-runtime.js';
import { openRxCards, RXDB_VERSION, type RxCards } from './page-rxdb.js';
import { b1Api } from './b1-api.js';

function rxdbTarget(cards: RxCards): Target {
  return {
    write: (card) => cards.upsert({ ...card }),
    watch: (id, onValue) => {
      const sub = cards.findOne(id).$.subscribe((doc) => onValue(doc?.toJSON()));
      return () => sub.unsubscribe();
    },
    settle: async () => undefined,
  };
}

exposeBench(async () => {
  const targets: Partial<Record<B1Variant, Target>> = {
    'peer-rxdb': rxdbTarget(await openRxCards('b1rxdb', 'default')),
    'peer-rxdb-strict': rxdbTarget(await openRxCards('b1rxdbstrict', 'strict')),
  };
  return b1Api(targets, { rxdb: RXDB_VERSION });
});
