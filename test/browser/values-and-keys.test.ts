// Date and binary values and string, number and compound keys in real Chromium IndexedDB: two
// devices (browser contexts) against a real server, plus its history, change feed and writes.
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import { afterAll, describe, expect, it } from 'vitest';
import type { SyncServer } from '@syncline/server';
import type { ValuesApp, ValuesAppResult } from './fixtures/values-app.js';
import type { TestContext } from './harness.js';
import { closeSuite, startSyncSuite, waitForOk, type SyncSuite } from './suite.js';

const ENTRY = fileURLToPath(new URL('./fixtures/values-app.ts', import.meta.url));
const APP = 'values-app';
/** The fixture's scope (a type-only import: the fixture's module only runs in the page). */
const SCOPE = 'space:1';
/** A mutation for `applyMutations` (branded ids come from the wire schemas; these are literals). */
type AppMutation = Parameters<SyncServer['applyMutations']>[1][number];

let suite: SyncSuite | undefined;
const contexts: TestContext[] = [];

afterAll(async () => {
  for (const c of contexts) await c.context.close();
  await closeSuite(suite ?? {});
}, 30_000);

async function open(db: string): Promise<Page> {
  const context = await suite!.browser.newContext();
  contexts.push(context);
  const page = await context.newPage(suite!.pages.pageUrl(APP, { db }));
  await waitForOk<ValuesAppResult>(page, 'values-app failed');
  return page;
}

/** Calls `window.values[method](...args)` in the page. */
function call<K extends keyof ValuesApp>(
  page: Page,
  method: K,
  ...args: Parameters<ValuesApp[K]>
): Promise<Awaited<ReturnType<ValuesApp[K]>>> {
  return page.evaluate(
    async ([name, params]) => {
      const app = window.values as unknown as Record<string, (...a: unknown[]) => unknown>;
      return app[name]!(...params);
    },
    [method, args as unknown[]] as const,
  ) as Promise<Awaited<ReturnType<ValuesApp[K]>>>;
}

const converged = (page: Page) =>
  expect.poll(() => call(page, 'converged'), { timeout: 10_000, interval: 50 }).toBe(true);

describe('values and keys in real Chromium', { timeout: 60_000 }, () => {
  it('round-trips Date, binary and tag-shaped values and every key kind between two devices, history, feed and server writes', async () => {
    suite = await startSyncSuite({ tmpPrefix: 'syncline-values-', bundles: { [APP]: ENTRY } });
    const { browser, sync } = suite;

    const a = await open('device-a');
    const b = await open('device-b');
    const id = await call(a, 'writeAll');
    await converged(a);
    await converged(b);
    const expected = {
      notes: [
        {
          id,
          when: 'Date(2024-05-01T12:34:56.789Z)',
          bytes: 'Uint8Array(0,1,254,255)',
          buf: 'ArrayBuffer(7,8)',
          nested: { list: ['Date(1970-01-01T00:00:00.000Z)', 'Uint8Array()'] },
          spoof: { $date: '2024-01-01T00:00:00.000Z' },
        },
      ],
      counters: [
        { n: 1, label: 'number', at: 'Date(1970-01-01T00:00:00.001Z)' },
        { n: '1', label: 'string' },
      ],
      cells: [{ sheet: 's1', row: 2, v: 'Uint8Array(9)' }],
    };
    expect(await call(b, 'rows')).toEqual(expected);
    expect(await call(b, 'notesAfter', '2024-01-01T00:00:00.000Z')).toEqual([id]);

    await call(b, 'updateNote', id, '2026-02-03T04:05:06.007Z');
    await converged(b);
    await converged(a);
    expect(await call(a, 'rows')).toMatchObject({
      notes: [{ when: 'Date(2026-02-03T04:05:06.007Z)', bytes: 'Uint8Array(5)' }],
    });
    expect(await call(a, 'history', 'notes', id)).toEqual([
      expect.objectContaining({ when: 'Date(2026-02-03T04:05:06.007Z)' }),
      expected.notes[0],
    ]);
    expect(await call(a, 'history', 'counters', 1)).toEqual([expected.counters[0]]);
    expect(await call(a, 'history', 'cells', ['s1', 2])).toEqual([expected.cells[0]]);

    // A server-side write in the app's types reaches the browser as a Date and bytes.
    const put = {
      mid: 1,
      scope: SCOPE,
      collection: 'counters',
      id: '~n2',
      base: 0,
      op: 'put',
      value: { n: 2, at: new Date(2), raw: new Uint8Array([2]) },
    } as unknown as AppMutation;
    const res = await sync.applyMutations({ id: 'backend' }, [put]);
    expect(res).toMatchObject({ ok: true });
    await converged(b);
    expect(await call(b, 'rows')).toMatchObject({
      counters: [
        expect.anything(),
        { n: 2, at: 'Date(1970-01-01T00:00:00.002Z)', raw: 'Uint8Array(2)' },
        expect.anything(),
      ],
    });
    // And the Node change feed hands the browser's writes back decoded.
    const feed = [];
    for await (const c of sync.changes(SCOPE, { follow: false })) feed.push(c);
    expect(feed[0]!.value!.when).toEqual(new Date('2024-05-01T12:34:56.789Z'));
    expect(feed[0]!.value!.bytes).toEqual(new Uint8Array([0, 1, 254, 255]));

    // Keys Syncline cannot sync are refused when the client is created.
    expect(await call(a, 'refusal', '++id')).toMatchObject({ code: 'unsupported_key' });
    expect((await call(a, 'refusal', '++id'))!.message).toContain('newId()');
    expect(await call(a, 'refusal', ', title')).toMatchObject({ code: 'unsupported_key' });
    expect(await call(a, 'refusal', 'id')).toBeNull();
    expect(browser.errors).toEqual([]);
  });
});
