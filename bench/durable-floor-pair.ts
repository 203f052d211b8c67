/**
 * B2's durable floor in Node (fake-indexeddb, like the Syncline Node rows): A writes the row and
 * an outbox entry in one strict Dexie transaction and sends from memory; the floor server (its
 * own process) commits version, record, history and client row to SQLite (WAL,
 * synchronous=FULL) before forwarding; B applies row + cursor in one relaxed transaction, and the
 * clock stops when B's Dexie `liveQuery` on the row re-runs with the new value.
 */
import 'fake-indexeddb/auto';
import { Dexie, liveQuery } from 'dexie';
import { from } from 'rxjs';
import { card, type Card } from './cards.js';
import { DurableFloorReplica, openFloorDb } from './browser/durable-replica.js';
import { timeUntilSeen, type PropagationPair } from './pair.js';
import { startPeer, type Peer } from './processes.js';
import { connectRaw } from './peers/socketio-pair.js';
import { SQLITE_DURABILITY } from './syncline-server.js';

let counter = 0;

/** A replica on its own fake-indexeddb database, connected to the floor server at `url`. */
export async function floorReplica(url: string, durability: 'strict' | 'relaxed') {
  const name = `durable-floor-${process.pid}-${++counter}`;
  const db = openFloorDb<Card>(name, durability);
  await db.open();
  const socket = await connectRaw(url);
  return {
    replica: new DurableFloorReplica<Card>(db, socket, name),
    close: async () => {
      socket.close();
      db.close();
      await Dexie.delete(name);
    },
  };
}

export const startDurableFloorServer = (seed = 0): Promise<Peer> =>
  startPeer('durable-floor-server', [String(seed)]);

export async function durableFloorPair(): Promise<PropagationPair> {
  const server = await startDurableFloorServer();
  const url = `http://127.0.0.1:${server.port}`;
  const opened: { close(): Promise<void> }[] = [];
  const close = async () => {
    await Promise.allSettled(opened.map((r) => r.close()));
    await server.stop();
  };
  try {
    const a = await floorReplica(url, 'strict');
    opened.push(a);
    const b = await floorReplica(url, 'relaxed');
    opened.push(b);
    return {
      row: {
        name: 'floor-durable',
        kind: 'floor',
        label:
          'hand-written: A strict txn (row + outbox) → Socket.IO → SQLite commit → B relaxed txn (row + cursor) → B liveQuery (Node, fake-indexeddb)',
        durability: `${SQLITE_DURABILITY}, committed before forwarding; clients: fake-indexeddb (memory)`,
      },
      async propagate(id, seq) {
        const ms = await timeUntilSeen(from(liveQuery(() => b.replica.db.cards.get(id))), seq, () =>
          a.replica.write(card(id, seq)),
        );
        const failure = b.replica.failure ?? a.replica.failure;
        if (failure !== undefined) throw failure;
        return ms;
      },
      async close() {
        await Promise.allSettled([a.replica.settled(), b.replica.settled()]);
        await close();
      },
    };
  } catch (err) {
    await close();
    throw err;
  }
}
