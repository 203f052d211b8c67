/**
 * B1 page for Syncline and the raw-Dexie floor (RxDB, with its own Dexie copy, has its own page:
 * Dexie refuses two versions in one page). Query: `sync` = server URL. The Node driver
 * (`b1-local-write.ts`) interleaves the variants of both pages in blocks.
 */
import { useLayoutEffect } from 'react';
import { createRoot } from 'react-dom/client';
import { Dexie, liveQuery, type Table } from 'dexie';
import { SynclineProvider, useLiveQuery } from '@syncline/client/react';
import { b1Api } from './b1-api.js';
import type { B1Variant } from './page-api.js';
import type { Target } from './page-measure.js';
import { exposeBench } from './page-runtime.js';
import { openSyncline, outboxDrained, type CardsDb, type SynclinePage } from './page-syncline.js';
import type { BenchCard } from './records.js';

function synclineTarget({ db, sync }: SynclinePage): Target {
  return {
    write: (card) => db.cards.put(card),
    watch: (id, onValue) => {
      const sub = sync.liveQuery(() => db.cards.get(id)).subscribe({ next: onValue });
      return () => sub.unsubscribe();
    },
    // Interactive writes come at human pace: the ack lands between two of them.
    settle: () => outboxDrained(db, 10_000),
  };
}

function Probe(props: { db: CardsDb; id: string; onCommit: (value: unknown) => void }) {
  const { db, id, onCommit } = props;
  const card = useLiveQuery(() => db.cards.get(id), [id]);
  // Layout effects run right after React committed the DOM showing `card`.
  useLayoutEffect(() => onCommit(card), [card, onCommit]);
  return <span>{card?.rev ?? '-'}</span>;
}

function reactTarget(page: SynclinePage): Target {
  return {
    ...synclineTarget(page),
    watch: (id, onValue) => {
      const host = document.createElement('div');
      document.body.append(host);
      const root = createRoot(host);
      root.render(
        <SynclineProvider client={page.sync}>
          <Probe db={page.db} id={id} onCommit={onValue} />
        </SynclineProvider>,
      );
      return () => {
        root.unmount();
        host.remove();
      };
    },
  };
}

async function floorTarget(name: string, durability: 'strict' | 'relaxed'): Promise<Target> {
  type Outbox = { seq?: number; table: string; key: string; value: BenchCard; createdAt: number };
  const db = new Dexie(name, { chromeTransactionDurability: durability }) as Dexie & {
    cards: Table<BenchCard, string>;
    outbox: Table<Outbox, number>;
  };
  db.version(1).stores({ cards: 'id', outbox: '++seq' });
  await db.open();
  return {
    // The physical floor of a transactional outbox: record and queue entry in one transaction.
    write: (card) =>
      db.transaction('rw', db.cards, db.outbox, async () => {
        await db.cards.put(card);
        await db.outbox.add({ table: 'cards', key: card.id, value: card, createdAt: Date.now() });
      }),
    watch: (id, onValue) => {
      const sub = liveQuery(() => db.cards.get(id)).subscribe({ next: onValue });
      return () => sub.unsubscribe();
    },
    settle: async () => undefined,
  };
}

exposeBench(async () => {
  const url = new URLSearchParams(location.search).get('sync');
  if (url === null) throw new Error('no ?sync= server URL');
  // Separate scopes: the two clients must not receive each other's writes.
  const strict = await openSyncline({
    name: 'b1-syncline',
    url,
    scope: 'bench:b1-strict',
    durability: 'strict',
  });
  const relaxed = await openSyncline({
    name: 'b1-syncline-relaxed',
    url,
    scope: 'bench:b1-relaxed',
    durability: 'relaxed',
  });
  const targets: Partial<Record<B1Variant, Target>> = {
    syncline: synclineTarget(strict),
    'syncline-react': reactTarget(strict),
    'syncline-relaxed': synclineTarget(relaxed),
    'floor-dexie': await floorTarget('b1-floor-strict', 'strict'),
    'floor-dexie-relaxed': await floorTarget('b1-floor-relaxed', 'relaxed'),
  };
  return b1Api(targets, { dexie: Dexie.semVer });
});
