import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe } from 'vitest';
import { MemoryStorage } from '../src/storage/memory-storage.js';
import { PostgresStorage } from '../src/storage/postgres-storage.js';
import { SqliteStorage } from '../src/storage/sqlite-storage.js';
import { dropSchema, PG_URL, testSchema as tempSchema } from '@syncline/test-support/databases';
import { runStorageConformance } from './storage-conformance.js';

runStorageConformance('memory', async () => {
  const storage = new MemoryStorage();
  return { storage, cleanup: () => storage.close() };
});

runStorageConformance('sqlite', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'syncline-sqlite-'));
  const storage = await SqliteStorage.open({ path: join(dir, 'test.db') });
  return {
    storage,
    cleanup: async () => {
      await storage.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
});

runStorageConformance('sqlite :memory:', async () => {
  const storage = await SqliteStorage.open({ path: ':memory:', synchronous: 'NORMAL' });
  return { storage, cleanup: () => storage.close() };
});

describe.skipIf(!PG_URL)('postgres', () => {
  runStorageConformance('postgres', async () => {
    const schema = tempSchema();
    const storage = await PostgresStorage.open({ connectionString: PG_URL!, schema, poolSize: 4 });
    return {
      storage,
      cleanup: async () => {
        await storage.close();
        await dropSchema(PG_URL!, schema);
      },
    };
  });
});

// Statements one at a time: the fallback of the pipelined transaction (same answers, more round trips).
describe.skipIf(!PG_URL)('postgres, not pipelined', () => {
  runStorageConformance('postgres, not pipelined', async () => {
    const schema = tempSchema();
    const storage = await PostgresStorage.open({
      connectionString: PG_URL!,
      schema,
      poolSize: 4,
      pipeline: false,
    });
    return {
      storage,
      cleanup: async () => {
        await storage.close();
        await dropSchema(PG_URL!, schema);
      },
    };
  });
});
