// Before dexie: Dexie picks up the global indexedDB when it loads.
import 'fake-indexeddb/auto';
import { add as dexieAdd, type UpdateSpec } from 'dexie';
import { afterEach, describe, expect, it } from 'vitest';
import { asScopeId } from '@syncline/protocol';
import { MemoryStorage } from '@syncline/server';
import type { RejectionEntry } from '@syncline/client';
import { converged, device, SCOPE, type Card, type Device } from '@syncline/test-support/devices';
import { startServer, type RunningServer as TestServer } from '@syncline/test-support/server';
import { mulberry32 } from '@syncline/test-support';

const DEVICES = 5;
/** Data operations that changed something locally (no-op updates and deletes not counted). */
const OPERATIONS = 500;
/** Counter cards: created once, then only patched and incremented, so likes are exactly predictable. */
const COUNTERS = ['k0', 'k1', 'k2', 'k3', 'k4', 'k5'];
/** Free cards: put, patched, incremented and deleted at random. */
const FREE = Array.from({ length: 24 }, (_, i) => `c${i}`);
const WORDS = ['alpha', 'bravo', 'charlie', 'delta', 'echo', 'foxtrot', 'golf', 'hotel'];
const STATUSES = ['todo', 'doing', 'done'];

const envSeed = process.env['SYNCLINE_SEED'];
const seed =
  envSeed !== undefined && envSeed !== '' ? Number(envSeed) >>> 0 : (Math.random() * 2 ** 32) >>> 0;

let server: TestServer | undefined;
const devices: Device[] = [];
afterEach(async () => {
  for (const d of devices.splice(0)) await d.sync.close();
  await server?.stop();
  server = undefined;
});

describe('random operations on several devices', () => {
  it('converge, with every acknowledged inc counted exactly once', { timeout: 60_000 }, async () => {
    console.log(`random.test: SYNCLINE_SEED=${seed}`);
    const started = Date.now();
    const rnd = mulberry32(seed);
    const int = (n: number) => Math.floor(rnd() * n);
    const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)]!;
    const storage = new MemoryStorage();
    server = await startServer({ storage });
    const url = server.url;
    const open = (i: number, online = true) =>
      device(url, {
        name: `random-${process.pid}-${seed}-${i}`,
        online,
        // Small pushes: bulk writes and bursts split into several batches, window and all.
        client: { random: mulberry32(seed + 1 + i), limits: { maxMutationsPerPush: 4 } },
      });
    for (let i = 0; i < DEVICES; i++) devices.push(open(i));
    const fail = (msg: string) => `${msg} (replay with SYNCLINE_SEED=${seed})`;

    try {
      for (const d of devices) await d.sync.start();
      const first = devices[0]!;
      for (const id of COUNTERS) await first.db.cards.put({ id, board: '1', title: id, likes: 0 });
      for (const d of devices) await converged(d);

      /** Sum of the incs each device made locally on each counter (an update that changed a row). */
      const incs = new Map<string, number>(COUNTERS.map((id) => [id, 0]));
      const counts = {
        put: 0,
        bulk: 0,
        patch: 0,
        delete: 0,
        inc: 0,
        txn: 0,
        offline: 0,
        online: 0,
        reload: 0,
      };
      const done = () => counts.put + counts.bulk + counts.patch + counts.delete + counts.inc + counts.txn;
      for (let step = 0; done() < OPERATIONS && step < OPERATIONS * 3; step++) {
        const index = int(devices.length);
        const d = devices[index]!;
        const r = rnd();
        if (r < 0.008 && counts.reload < 4) {
          // A reload: the app closes (whatever is in flight) and a new client opens the same database.
          const online = d.network.isOnline();
          await d.sync.close();
          const next = open(index, online);
          devices[index] = next;
          await next.sync.start();
          counts.reload++;
        } else if (r < 0.06) {
          // Flip the device's network; keep at least two devices online so sync keeps flowing.
          const online = devices.filter((x) => x.network.isOnline()).length;
          if (d.network.isOnline() && online > 2) {
            d.network.set(false);
            counts.offline++;
          } else if (!d.network.isOnline()) {
            d.network.set(true);
            counts.online++;
          }
        } else if (r < 0.3) {
          const id = pick(FREE);
          const card: Card = { id, board: '1', title: pick(WORDS), status: pick(STATUSES) };
          if (rnd() < 0.5) card.likes = int(10);
          if (rnd() < 0.3) card.notes = `${pick(WORDS)} ${pick(WORDS)}`;
          await d.db.cards.put(card);
          counts.put++;
        } else if (r < 0.55) {
          const id = rnd() < 0.3 ? pick(COUNTERS) : pick(FREE);
          const k = rnd();
          if (k < 0.8) {
            const changes: UpdateSpec<Card> = k < 0.4 ? { title: pick(WORDS) } : { status: pick(STATUSES) };
            if ((await d.db.cards.update(id, changes)) === 1) counts.patch++;
          } else {
            // modify(fn): no change spec, the outbox diffs old and new (set or unset `notes`).
            const notes = `${pick(WORDS)} notes`;
            const modified = await d.db.cards
              .where(':id')
              .equals(id)
              .modify((c) => {
                if (c.notes === undefined) c.notes = notes;
                else delete c.notes;
              });
            if (modified === 1) counts.patch++;
          }
        } else if (r < 0.65) {
          const id = pick(FREE);
          if ((await d.db.cards.get(id)) !== undefined) counts.delete++;
          await d.db.cards.delete(id);
        } else if (r < 0.66) {
          // One write of several records: more mutations than one push holds, most of the time.
          const ids = [...new Set(Array.from({ length: 2 + int(9) }, () => pick(FREE)))];
          await d.db.cards.bulkPut(ids.map((id) => ({ id, board: '1', title: `bulk ${pick(WORDS)}` })));
          counts.bulk++;
        } else if (r < 0.95) {
          const counter = rnd() < 0.7;
          const id = counter ? pick(COUNTERS) : pick(FREE);
          const by = 1 + int(3);
          if ((await d.db.cards.update(id, { likes: dexieAdd(by) })) === 1) {
            counts.inc++;
            if (counter) incs.set(id, incs.get(id)! + by);
          }
        } else {
          // Two changes in one local transaction: all-or-nothing on the server.
          const [x, y] = [pick(FREE), pick(COUNTERS)];
          await d.sync.transaction([d.db.cards], async () => {
            await d.db.cards.put({ id: x, board: '1', title: `txn ${pick(WORDS)}` });
            await d.db.cards.update(y, { title: `txn ${pick(WORDS)}` });
          });
          counts.txn++;
        }
      }
      console.log(`random.test: ops ${JSON.stringify(counts)} in ${Date.now() - started}ms`);
      expect(done(), fail('too few operations ran')).toBeGreaterThanOrEqual(OPERATIONS);
      expect(counts.inc, fail('too few incs ran')).toBeGreaterThan(50);
      expect(counts.offline, fail('no device went offline')).toBeGreaterThan(0);

      for (const d of devices) d.network.set(true);
      // A last burst on each device once it is online and idle: no write comes after it to
      // wake a push that stopped early, so whatever it queued must leave on its own.
      for (const d of devices) {
        await converged(d, SCOPE, 20_000);
        const ids = Array.from({ length: 2 + int(11) }, (_, k) => FREE[k]!);
        await d.db.cards.bulkPut(ids.map((id) => ({ id, board: '1', title: `last ${pick(WORDS)}` })));
      }
      const deadline = Date.now() + 30_000;
      let hashes: string[] = [];
      for (;;) {
        hashes = [];
        for (const d of devices) hashes.push(await converged(d, SCOPE, 20_000));
        if (new Set(hashes).size === 1 || Date.now() > deadline) break;
      }
      const serverHash = await devices[0]!.sync.serverHash(SCOPE);
      expect(new Set(hashes), fail('device hashes differ')).toEqual(new Set([serverHash.hash]));
      for (const d of devices) {
        const local = await d.sync.localHash(SCOPE);
        expect(local.hash, fail(`${d.db.name} differs from the server`)).toBe(serverHash.hash);
        expect(await d.db.table('_syncline_outbox').count(), fail('outbox not drained')).toBe(0);
      }

      // Every inc on a counter was acknowledged (none rejected), and applied exactly once.
      const rejected = new Map<string, number>(COUNTERS.map((id) => [id, 0]));
      for (const d of devices) {
        for (const rej of await d.db.table<RejectionEntry>('_syncline_rejections').toArray()) {
          const m = rej.mutation;
          if (m.op === 'inc' && rejected.has(m.id)) rejected.set(m.id, rejected.get(m.id)! + m.by);
        }
      }
      expect([...rejected.values()], fail('counter incs were rejected')).toEqual(COUNTERS.map(() => 0));
      for (const id of COUNTERS) {
        const acknowledged = incs.get(id)! - rejected.get(id)!;
        const onServer = (await storage.getRecord(asScopeId(SCOPE), 'cards', id))?.value?.['likes'];
        expect(onServer, fail(`likes of ${id} on the server`)).toBe(acknowledged);
        for (const d of devices)
          expect((await d.db.cards.get(id))?.likes, fail(`likes of ${id} on ${d.db.name}`)).toBe(
            acknowledged,
          );
      }
      console.log(`random.test: converged in ${Date.now() - started}ms`);
    } catch (err) {
      console.log(`random.test: FAILED with SYNCLINE_SEED=${seed}`);
      throw err;
    }
  });
});
