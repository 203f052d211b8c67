/**
 * Page side: the RxDB peer, a `cards` collection on RxDB's Dexie storage with RxDB's defaults
 * (its own Dexie copy; Chromium's default durability unless `strict` is asked for).
 */
import { createRxDatabase, RXDB_VERSION, type RxCollection, type RxJsonSchema } from 'rxdb';
import { getRxStorageDexie } from 'rxdb/plugins/storage-dexie';
import type { BenchCard } from './records.js';

export { RXDB_VERSION };

type CardDoc = { -readonly [K in keyof BenchCard]: BenchCard[K] };
export type RxCards = RxCollection<CardDoc>;

const schema: RxJsonSchema<CardDoc> = {
  version: 0,
  primaryKey: 'id',
  type: 'object',
  properties: {
    id: { type: 'string', maxLength: 32 },
    board: { type: 'string' },
    title: { type: 'string' },
    notes: { type: 'string' },
    status: { type: 'string' },
    likes: { type: 'number' },
    rev: { type: 'number' },
  },
  required: ['id', 'board', 'title', 'notes', 'status', 'likes', 'rev'],
};

export async function openRxCards(name: string, durability: 'default' | 'strict'): Promise<RxCards> {
  const storage = getRxStorageDexie(durability === 'strict' ? { chromeTransactionDurability: 'strict' } : {});
  const db = await createRxDatabase<{ cards: RxCards }>({ name, storage });
  const collections = await db.addCollections({ cards: { schema } });
  return collections.cards;
}
