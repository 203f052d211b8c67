/**
 * B5's durable floor: the offline workload written by A as the durable-floor client does it (row
 * + outbox entry per mutation, 100 mutations per strict transaction, as Syncline's run writes
 * them), then on reconnect the outbox is read once and pushed in batches of 500 (Syncline's
 * `maxMutationsPerPush`), all in flight at once; the floor server commits each batch in one SQLite
 * transaction (WAL, synchronous=FULL) before forwarding it; B applies each batch (rows + cursor)
 * in one relaxed transaction. Timed like Syncline's row: until A's outbox is empty and until B's
 * live query shows the last write.
 */
import { liveQuery } from 'dexie';
import { filter, firstValueFrom, from } from 'rxjs';
import { io } from 'socket.io-client';
import { card, within, type Card } from './cards.js';
import type { CatchUp } from './b5-peers.js';
import { DurableFloorReplica, openFloorDb } from './browser/durable-replica.js';
import { floorReplica, startDurableFloorServer } from './durable-floor-pair.js';
import { assertFinal, finalSeqs, type OfflineWrite } from './offline-writes.js';
import type { BenchRow } from './report.js';
import { SQLITE_DURABILITY } from './syncline-server.js';
import { bytes, proxies } from './wire-bytes.js';

const LIMIT_MS = 90_000;
const PUSH_BATCH = 500;

export const durableCatchUp = {
  row: {
    name: 'floor-durable',
    kind: 'floor',
    label:
      'hand-written: A strict txns (row + outbox) offline, then outbox pushed in batches of 500 → SQLite commit per batch → B relaxed txn per batch (Node, fake-indexeddb)',
    durability: `${SQLITE_DURABILITY}, committed before forwarding; clients: fake-indexeddb (memory)`,
  } satisfies Omit<BenchRow, 'bench'>,
  async run(writes: readonly OfflineWrite[]): Promise<CatchUp> {
    const server = await startDurableFloorServer();
    const proxy = await proxies(server.port);
    const closers: (() => Promise<void>)[] = [];
    try {
      const b = await floorReplica(`http://127.0.0.1:${proxy.b.port}`, 'relaxed');
      closers.push(b.close);
      const name = `b5-durable-floor-a-${process.pid}`;
      const db = openFloorDb<Card>(name, 'strict');
      const socket = io(`http://127.0.0.1:${proxy.a.port}`, {
        transports: ['websocket'],
        reconnection: false,
        forceNew: true,
        autoConnect: false,
      });
      closers.push(async () => {
        socket.close();
        db.close();
        await db.delete();
      });
      const a = new DurableFloorReplica<Card>(db, socket, name);
      const w0 = performance.now();
      const current = new Map<string, Card>();
      for (let i = 0; i < writes.length; i += 100) {
        const values = writes.slice(i, i + 100).map((w) => {
          const prev = current.get(w.id);
          const value =
            w.create || !prev ? card(w.id, w.seq) : { ...prev, seq: w.seq, title: `card ${w.seq}` };
          current.set(w.id, value);
          return value;
        });
        await a.writeLocal(values);
      }
      const offlineSeconds = (performance.now() - w0) / 1000;
      const last = writes[writes.length - 1]!;
      const bHasAll = firstValueFrom(
        from(liveQuery(() => b.replica.db.cards.get(last.id))).pipe(filter((c) => c?.seq === last.seq)),
      );
      await proxy.a.call({ type: 'reset' });
      await proxy.b.call({ type: 'reset' });
      const t0 = performance.now();
      const pushed = (async () => {
        await new Promise<void>((resolve, reject) => {
          socket.once('connect', resolve);
          socket.once('connect_error', reject);
          socket.connect();
        });
        const outbox = await db.outbox.toArray();
        const acks: Promise<void>[] = [];
        for (let i = 0; i < outbox.length; i += PUSH_BATCH)
          acks.push(a.push(outbox.slice(i, i + PUSH_BATCH)));
        await Promise.all(acks);
        return performance.now() - t0;
      })();
      const [outboxMs, allMs] = await within(
        Promise.all([pushed, bHasAll.then(() => performance.now() - t0)]),
        LIMIT_MS,
        'B5 durable floor catch-up',
      );
      const wire = await bytes(proxy);
      await Promise.all([a.settled(), b.replica.settled()]);
      const left = await db.outbox.count();
      if (left > 0) throw new Error(`B5 durable floor: ${left} outbox entries left on A`);
      const rows = await b.replica.db.cards.toArray();
      assertFinal('B5 durable floor B', finalSeqs(writes), new Map(rows.map((r) => [r.id, r.seq])));
      const cursor = await b.replica.db.meta.get('cursor');
      if (cursor?.version !== writes.length)
        throw new Error(`B5 durable floor: B's cursor is ${cursor?.version}, want ${writes.length}`);
      return { allMs, outboxMs, offlineSeconds, wire };
    } finally {
      for (const close of closers) await close().catch(() => undefined);
      await proxy.stop();
      await server.stop();
    }
  },
};
