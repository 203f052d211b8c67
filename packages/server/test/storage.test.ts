import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MemoryStorage } from '../src/storage/memory-storage.js';
import { SqliteStorage } from '../src/storage/sqlite-storage.js';
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
