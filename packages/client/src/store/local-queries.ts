import type { Dexie } from 'dexie';
import { encodeRecord, ScopeHasher } from '@syncline/protocol';
import { SYNCLINE_TABLES, type MetaRow, type RecordMeta } from './schema.js';
import { appKeyOf } from './synced-keys.js';

/** The database's client id, created once (random, URL-safe) and kept forever. */
export async function ensureClientId(db: Dexie, random: () => number): Promise<string> {
  return db.transaction('rw', SYNCLINE_TABLES.meta, async () => {
    const row = (await db.table<MetaRow>(SYNCLINE_TABLES.meta).get('clientId'))?.value;
    if (typeof row === 'string') return row;
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
    // An identity, not jitter: use the platform's CSPRNG when there is one.
    const bytes = new Uint8Array(22);
    const crypto = (globalThis as { crypto?: { getRandomValues(a: Uint8Array): Uint8Array } }).crypto;
    if (crypto) crypto.getRandomValues(bytes);
    else for (let i = 0; i < bytes.length; i++) bytes[i] = Math.floor(random() * 256) & 255;
    let id = 'c_';
    for (const b of bytes) id += alphabet[b % alphabet.length];
    await db.table<MetaRow>(SYNCLINE_TABLES.meta).put({ key: 'clientId', value: id });
    return id;
  });
}

/**
 * The content hash of this client's copy of a scope, computed exactly as the server does over
 * its records (see `ScopeHasher`). Equal hashes with an empty outbox mean converged.
 */
export async function localScopeHash(db: Dexie, scope: string): Promise<{ hash: string; count: number }> {
  return db.transaction('r', db.tables, async () => {
    const metas = await db.table<RecordMeta>(SYNCLINE_TABLES.records).where('scope').equals(scope).toArray();
    const hasher = new ScopeHasher();
    for (const m of metas) {
      const row: unknown = await db.table(m.table).get(appKeyOf(m.id));
      if (row === undefined) continue;
      // Hashed in the wire encoding, as the server stores it.
      const value = encodeRecord(row);
      if (value.ok) hasher.add(m.table, m.id, value.value);
    }
    return { hash: hasher.digest(), count: hasher.count };
  });
}
