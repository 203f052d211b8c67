/**
 * Page side of B6: checks a bootstrapped `cards` table (row count, and a spot check of some rows
 * against the seeded values), so no variant is timed for storing the wrong thing.
 */
import type { Table } from 'dexie';
import { benchCard, cardDiff, type BenchCard } from './records.js';

/** Resolves with the row count; throws unless it is `count` and the spot-checked rows are right. */
export async function verifyCards(cards: Table<BenchCard, string>, count: number): Promise<number> {
  const rows = await cards.count();
  if (rows !== count) throw new Error(`bootstrap stored ${rows} rows, want ${count}`);
  for (const i of [0, 1, Math.floor(count / 2), count - 1]) {
    const want = benchCard(i);
    const diff = cardDiff(await cards.get(want.id), want);
    if (diff !== undefined) throw new Error(`row ${want.id} is wrong: ${diff}`);
  }
  return rows;
}
