/**
 * Client side of the durable floor (B2, B5, B6), in Node (fake-indexeddb) and in Chromium pages:
 * the least a client with Syncline's durability must do, written by hand. A local write is one
 * Dexie transaction putting the row and one outbox entry (the mid comes from memory), then the
 * mutation is sent from memory over Socket.IO; the ack deletes the outbox entry. Received
 * changes are applied in one transaction per message: rows plus the cursor. The Dexie instance's
 * durability decides strict or relaxed: writers open `strict`, receivers `relaxed`, as Syncline
 * commits local writes strict and pulled or pushed-to-it state relaxed.
 */
import { Dexie, type Table } from 'dexie';
import type { Socket } from 'socket.io-client';

export interface FloorRow {
  readonly id: string;
}

interface OutboxEntry<R> {
  readonly mid: number;
  readonly id: string;
  readonly value: R;
}

export interface FloorChange<R> {
  readonly version: number;
  readonly id: string;
  readonly value: R;
}

export type FloorDb<R extends FloorRow> = Dexie & {
  cards: Table<R, string>;
  outbox: Table<OutboxEntry<R>, number>;
  meta: Table<{ key: string; version: number }, string>;
};

export function openFloorDb<R extends FloorRow>(name: string, durability: 'strict' | 'relaxed'): FloorDb<R> {
  const db = new Dexie(name, { chromeTransactionDurability: durability }) as FloorDb<R>;
  db.version(1).stores({ cards: 'id', outbox: 'mid', meta: 'key' });
  return db;
}

/** Applies received changes (rows + cursor, one transaction); the first failure is kept. */
export function applyChanges<R extends FloorRow>(db: FloorDb<R>, changes: readonly FloorChange<R>[]) {
  const last = changes[changes.length - 1];
  if (last === undefined) return Promise.resolve();
  return db.transaction('rw', db.cards, db.meta, async () => {
    await db.cards.bulkPut(changes.map((c) => c.value));
    await db.meta.put({ key: 'cursor', version: last.version });
  });
}

export class DurableFloorReplica<R extends FloorRow> {
  #mid = 0;
  #applying: Promise<void> = Promise.resolve();
  #acks: Promise<void> = Promise.resolve();
  /** The first error of a background apply or ack, so the driver can fail the run. */
  failure: Error | undefined;

  constructor(
    readonly db: FloorDb<R>,
    readonly socket: Socket,
    readonly clientId: string,
  ) {
    socket.on('changes', (changes: FloorChange<R>[]) => {
      // Chained: each message commits after the previous one, in arrival (version) order.
      this.#applying = this.#applying
        .then(() => applyChanges(db, changes))
        .catch((e: unknown) => this.#fail(e));
    });
  }

  /** Writes `values` locally (row + outbox entry each, one transaction), without sending. */
  async writeLocal(values: readonly R[]): Promise<OutboxEntry<R>[]> {
    const entries = values.map((value) => ({ mid: ++this.#mid, id: value.id, value }));
    await this.db.transaction('rw', this.db.cards, this.db.outbox, async () => {
      await this.db.cards.bulkPut([...values]);
      await this.db.outbox.bulkAdd(entries);
    });
    return entries;
  }

  /** Sends outbox entries in one push; resolves once the server has committed them and the entries are gone. */
  push(entries: readonly OutboxEntry<R>[]): Promise<void> {
    const mutations = entries.map((e) => ({ mid: e.mid, id: e.id, value: e.value }));
    const done = new Promise<void>((resolve, reject) => {
      this.socket.emit('push', { clientId: this.clientId, mutations }, (reply: { error?: string }) => {
        if (reply.error !== undefined) return reject(new Error(`durable floor server: ${reply.error}`));
        this.db.outbox.bulkDelete(entries.map((e) => e.mid)).then(resolve, reject);
      });
    });
    this.#acks = this.#acks.then(() => done).catch((e: unknown) => this.#fail(e));
    return done;
  }

  /** One app write: durable locally, then sent from memory. Resolves once sent (not acked). */
  async write(value: R): Promise<void> {
    // A failed push is kept in `failure` by the ack chain; nothing to handle here.
    this.push(await this.writeLocal([value])).catch(() => undefined);
  }

  /** Resolves once every push so far is acked and applied changes are committed. */
  async settled(): Promise<void> {
    await Promise.all([this.#acks, this.#applying]);
    if (this.failure !== undefined) throw this.failure;
  }

  #fail(e: unknown): void {
    this.failure ??= e instanceof Error ? e : new Error(String(e));
  }
}
