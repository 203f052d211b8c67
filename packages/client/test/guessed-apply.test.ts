// fake-indexeddb first: Dexie must see it when it loads.
import 'fake-indexeddb/auto';
import { afterEach, describe, expect, it } from 'vitest';
import type { Dexie } from 'dexie';
import { GUESSED_APPLY_CASES, tracked } from './guessed-apply-cases.js';

// The one-wave apply (`guessed-apply.ts`): reads and writes placed together on the scope row
// the tab knows, and each way a wrong guess falls back without keeping anything. The same cases
// run in Chromium (test/browser/one-wave-apply.test.ts).
const dbs: Dexie[] = [];
afterEach(async () => {
  for (const db of dbs.splice(0)) await db.delete();
});

describe('the one-wave apply (fake-indexeddb)', () => {
  for (const c of GUESSED_APPLY_CASES) {
    it(c.name, async () => {
      const t = tracked();
      dbs.push(t.db);
      expect(await c.run(t)).toEqual(c.expected);
    });
  }
});
