import { describe, expect, it } from 'vitest';
import { asClientId, asMid, asScopeId, asVersion, type Mutation } from '@syncline/protocol';
import { MemoryStorage } from '../storage/memory-storage.js';
import { applyPush, type PushContext } from './apply-push.js';

// Names that are members of Object.prototype: a plain `collections[name]` lookup finds them.
const NAMES = ['constructor', '__proto__', 'toString', 'hasOwnProperty'];

const ctx: PushContext = {
  clientId: asClientId('wire-names-client'),
  userId: 'u1',
  now: 1,
  collections: { notes: { strategy: 'lww' } },
  limits: { maxRecordBytes: 1 << 20, maxDepth: 32 },
  canPush: () => true,
};

describe('collection names from the wire', () => {
  it('are own-property lookups: prototype member names are ordinary collections, even with a polluted prototype', async () => {
    const storage = new MemoryStorage();
    const proto = Object.prototype as { validate?: unknown };
    // A dependency that pollutes Object.prototype must not get a validator called for these names.
    proto.validate = () => 'refused by a prototype member';
    try {
      const mutations: Mutation[] = NAMES.map((collection, i) => ({
        mid: asMid(i + 1),
        scope: asScopeId('s'),
        collection,
        id: 'r1',
        base: asVersion(0),
        op: 'put',
        value: { n: i },
      }));
      const out = await applyPush(storage, ctx, mutations);
      expect(out.ok && out.results.map((r) => r.status)).toEqual(NAMES.map(() => 'applied'));
    } finally {
      delete proto.validate;
    }
    for (const [i, collection] of NAMES.entries()) {
      expect((await storage.getRecord(asScopeId('s'), collection, 'r1'))?.value).toEqual({ n: i });
    }
  });
});
