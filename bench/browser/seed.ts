/**
 * Seeds a scope straight into a SQLite database file before the server process opens it, with
 * the server's own storage class and its one write path (`writeChange`: version, latest state,
 * history), so the bootstrap benchmark starts from exactly what 100k pushes would have left, in
 * seconds instead of minutes.
 */
import { asMid, asScopeId, asVersion } from '@syncline/protocol';
import { SqliteStorage } from '@syncline/server';
import { writeChange } from '../../packages/server/src/sync/write-change.js';
import { benchCard, type BenchCard } from './records.js';

const BATCH = 5_000;

/** Writes `count` cards (`benchCard(0…count-1)`) into `scope` of the SQLite file at `path`. */
export async function seedScope(path: string, scope: string, count: number): Promise<void> {
  const storage = await SqliteStorage.open({ path });
  try {
    for (let start = 0; start < count; start += BATCH) {
      await storage.transaction(async (tx) => {
        const now = Date.now();
        for (let i = start; i < Math.min(count, start + BATCH); i++) {
          const value = { ...benchCard(i) };
          await writeChange(tx, {
            mutation: {
              mid: asMid(i + 1),
              scope: asScopeId(scope),
              collection: 'cards',
              id: value.id,
              op: 'put',
              base: asVersion(0),
              value,
            },
            value,
            prevVersion: 0,
            clientId: null,
            userId: 'bench-seed',
            now,
            conflict: null,
            restoredFrom: null,
          });
        }
      });
    }
  } finally {
    await storage.close();
  }
}

/** The same rows as JSON, for the floor and the peer to fetch into the page. */
export function seededRowsJson(count: number): string {
  const rows: BenchCard[] = [];
  for (let i = 0; i < count; i++) rows.push(benchCard(i));
  return JSON.stringify(rows);
}
