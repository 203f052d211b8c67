import {
  asVersion,
  type ClientId,
  type CollectionName,
  type RecordId,
  type ScopeId,
  type Version,
} from '@syncline/protocol';
import { AsyncMutex } from './async-mutex.js';
import type {
  ClientRow,
  HistoryPage,
  PruneStats,
  PullPage,
  RetentionPolicy,
  SinkBacklogEntry,
  StorageTx,
  StoredHistoryEntry,
  StoredRecord,
  SyncStorage,
} from './storage.js';

interface ScopeState {
  head: number;
  horizon: number;
}

const recordKey = (scope: string, collection: string, id: string): string =>
  JSON.stringify([scope, collection, id]);

/**
 * The reference `SyncStorage`: everything in maps, nothing durable. Transactions are serialized
 * by a mutex and undone through an undo log, which also gives savepoints for free. Used by unit
 * tests and as the executable meaning of the storage contract.
 */
export class MemoryStorage implements SyncStorage {
  readonly kind = 'memory';
  readonly #scopes = new Map<string, ScopeState>();
  readonly #records = new Map<string, StoredRecord>();
  /** History per record key, ascending by version. */
  readonly #history = new Map<string, StoredHistoryEntry[]>();
  readonly #clients = new Map<string, ClientRow>();
  /** Sink cursors by sink name, then scope. */
  readonly #sinkCursors = new Map<string, Map<string, number>>();
  readonly #mutex = new AsyncMutex();
  #closed = false;

  transaction<T>(fn: (tx: StorageTx) => Promise<T>, onCommit?: (result: T) => void): Promise<T> {
    return this.#mutex.run(async () => {
      this.#assertOpen();
      const undo: (() => void)[] = [];
      let result: T;
      try {
        result = await fn(this.#makeTx(undo));
      } catch (err) {
        for (let i = undo.length - 1; i >= 0; i--) undo[i]!();
        throw err;
      }
      try {
        onCommit?.(result);
      } catch {
        // The commit stands; the contract says onCommit must not throw.
      }
      return result;
    });
  }

  #makeTx(undo: (() => void)[]): StorageTx {
    const setIn = <K, V>(map: Map<K, V>, key: K, value: V): void => {
      const had = map.has(key);
      const old = map.get(key);
      map.set(key, value);
      undo.push(() => (had ? map.set(key, old as V) : map.delete(key)));
    };
    return {
      getClient: (clientId) => Promise.resolve(this.#clients.get(clientId)),
      putClient: (row) => Promise.resolve(setIn(this.#clients, row.clientId as string, row)),
      getRecord: (s, c, id) => this.getRecordNow(s, c, id),
      putRecord: (r) => Promise.resolve(setIn(this.#records, recordKey(r.scope, r.collection, r.id), r)),
      nextVersion: (scope) => {
        const state = this.#scopes.get(scope) ?? { head: 0, horizon: 0 };
        setIn(this.#scopes, scope as string, { ...state, head: state.head + 1 });
        return Promise.resolve(asVersion(state.head + 1));
      },
      appendHistory: (entry) => {
        const key = recordKey(entry.scope, entry.collection, entry.id);
        const list = this.#history.get(key) ?? [];
        if (list.some((e) => e.version === entry.version)) {
          return Promise.reject(new Error(`duplicate history entry ${key}@${entry.version}`));
        }
        setIn(
          this.#history,
          key,
          [...list, entry].sort((a, b) => a.version - b.version),
        );
        return Promise.resolve();
      },
      getHistoryEntry: (s, c, id, version) =>
        Promise.resolve(this.#history.get(recordKey(s, c, id))?.find((e) => e.version === version)),
      writesAfter: (s, c, id, after, clientId) => {
        const later = (this.#history.get(recordKey(s, c, id)) ?? []).filter((e) => e.version > after);
        return Promise.resolve({
          reaches: later[0]?.prevVersion === after,
          others: later.some((e) => e.clientId !== clientId),
        });
      },
      savepoint: async <T>(fn: () => Promise<T>): Promise<T> => {
        const mark = undo.length;
        try {
          return await fn();
        } catch (err) {
          for (let i = undo.length - 1; i >= mark; i--) undo[i]!();
          undo.length = mark;
          throw err;
        }
      },
    };
  }

  bindClient(clientId: ClientId, userId: string): Promise<ClientRow> {
    return this.transaction(async (tx) => {
      const existing = await tx.getClient(clientId);
      if (existing) return existing;
      const row: ClientRow = { clientId, userId, lastMid: 0 };
      await tx.putClient(row);
      return row;
    });
  }

  getClient(clientId: ClientId): Promise<ClientRow | undefined> {
    return this.#mutex.run(() => Promise.resolve(this.#clients.get(clientId)));
  }

  pull(scope: ScopeId, after: Version, limit: number, clientId?: ClientId): Promise<PullPage> {
    return this.#mutex.run(() => {
      this.#assertOpen();
      const matching = [...this.#records.values()]
        .filter((r) => r.scope === scope && r.version > after)
        .sort((a, b) => a.version - b.version);
      const state = this.#scopes.get(scope) ?? { head: 0, horizon: 0 };
      return Promise.resolve({
        records: matching.slice(0, limit),
        head: asVersion(state.head),
        horizon: asVersion(state.horizon),
        hasMore: matching.length > limit,
        clientLastMid: clientId === undefined ? 0 : (this.#clients.get(clientId)?.lastMid ?? 0),
      });
    });
  }

  // Reads outside a transaction go through the mutex so they never see uncommitted writes.
  head(scope: ScopeId): Promise<Version> {
    return this.#mutex.run(() => Promise.resolve(asVersion(this.#scopes.get(scope)?.head ?? 0)));
  }

  getRecord(scope: ScopeId, collection: CollectionName, id: RecordId): Promise<StoredRecord | undefined> {
    return this.#mutex.run(() => this.getRecordNow(scope, collection, id));
  }

  private getRecordNow(
    scope: ScopeId,
    collection: CollectionName,
    id: RecordId,
  ): Promise<StoredRecord | undefined> {
    return Promise.resolve(this.#records.get(recordKey(scope, collection, id)));
  }

  history(
    scope: ScopeId,
    collection: CollectionName,
    id: RecordId,
    opts: { before?: Version; limit: number },
  ): Promise<StoredHistoryEntry[]> {
    const before = opts.before;
    return this.#mutex.run(() =>
      Promise.resolve(
        (this.#history.get(recordKey(scope, collection, id)) ?? [])
          .filter((e) => before === undefined || e.version < before)
          .reverse()
          .slice(0, opts.limit),
      ),
    );
  }

  scopeHistory(scope: ScopeId, after: Version, limit: number): Promise<HistoryPage> {
    return this.#mutex.run(() => {
      this.#assertOpen();
      const matching: StoredHistoryEntry[] = [];
      for (const list of this.#history.values()) {
        for (const e of list) if (e.scope === scope && e.version > after) matching.push(e);
      }
      matching.sort((a, b) => a.version - b.version);
      return Promise.resolve({
        entries: matching.slice(0, limit),
        head: asVersion(this.#scopes.get(scope)?.head ?? 0),
        hasMore: matching.length > limit,
      });
    });
  }

  sinkBacklog(sink: string, limit: number): Promise<SinkBacklogEntry[]> {
    return this.#mutex.run(() => {
      this.#assertOpen();
      const cursors = this.#sinkCursors.get(sink);
      const backlog: SinkBacklogEntry[] = [];
      for (const [scope, state] of this.#scopes) {
        const cursor = cursors?.get(scope) ?? 0;
        if (state.head > cursor) {
          backlog.push({ scope: scope as ScopeId, cursor: asVersion(cursor), head: asVersion(state.head) });
        }
      }
      backlog.sort((a, b) => (a.scope < b.scope ? -1 : a.scope > b.scope ? 1 : 0));
      return Promise.resolve(backlog.slice(0, limit));
    });
  }

  registerSink(sink: string, from: 'start' | 'now'): Promise<boolean> {
    return this.#mutex.run(() => {
      this.#assertOpen();
      const cursors = this.#sinkCursors.get(sink) ?? new Map<string, number>();
      if (cursors.has('')) return Promise.resolve(false);
      cursors.set('', 0);
      if (from === 'now') {
        for (const [scope, state] of this.#scopes) if (!cursors.has(scope)) cursors.set(scope, state.head);
      }
      this.#sinkCursors.set(sink, cursors);
      return Promise.resolve(true);
    });
  }

  setSinkCursor(sink: string, scope: ScopeId, version: Version): Promise<void> {
    return this.#mutex.run(() => {
      this.#assertOpen();
      const cursors = this.#sinkCursors.get(sink) ?? new Map<string, number>();
      cursors.set(scope, version);
      this.#sinkCursors.set(sink, cursors);
      return Promise.resolve();
    });
  }

  async *liveRecords(scope: ScopeId): AsyncIterable<StoredRecord> {
    const snapshot = await this.#mutex.run(() =>
      Promise.resolve([...this.#records.values()].filter((r) => r.scope === scope && r.value !== null)),
    );
    yield* snapshot;
  }

  prune(policy: RetentionPolicy, now: number): Promise<PruneStats> {
    return this.#mutex.run(() => {
      let historyRemoved = 0;
      let tombstonesRemoved = 0;
      let clientsRemoved = 0;
      for (const [id, row] of [...this.#clients]) {
        if (row.lastMid === 0 && this.#clients.delete(id)) clientsRemoved++;
      }
      const cutoff = policy.maxAgeMs === undefined ? undefined : now - policy.maxAgeMs;
      for (const [key, record] of [...this.#records]) {
        if (record.value === null && cutoff !== undefined && record.updatedAt < cutoff) {
          this.#records.delete(key);
          historyRemoved += this.#history.get(key)?.length ?? 0;
          this.#history.delete(key);
          tombstonesRemoved++;
          const state = this.#scopes.get(record.scope) ?? { head: 0, horizon: 0 };
          this.#scopes.set(record.scope, { ...state, horizon: Math.max(state.horizon, record.version) });
          continue;
        }
        const list = this.#history.get(key) ?? [];
        const keepFrom = policy.keepVersions === undefined ? 0 : list.length - policy.keepVersions;
        const kept = list.filter(
          (e, i) =>
            e.version === record.version ||
            (i >= keepFrom && (cutoff === undefined || e.serverTime >= cutoff)),
        );
        historyRemoved += list.length - kept.length;
        this.#history.set(key, kept);
      }
      return Promise.resolve({ historyRemoved, tombstonesRemoved, clientsRemoved });
    });
  }

  ping(): Promise<void> {
    this.#assertOpen();
    return Promise.resolve();
  }

  async close(): Promise<void> {
    await this.#mutex.drain();
    this.#closed = true;
  }

  #assertOpen(): void {
    if (this.#closed) throw new Error('storage is closed');
  }
}
