import type Database from 'better-sqlite3';
import { asVersion } from '@syncline/protocol';
import type { ClientId, CollectionName, RecordId, ScopeId, Version } from '@syncline/protocol';
import { JsonTexts, toClient, toHistory, toRecord } from './rows.js';
import { ScopeHeads } from './scope-heads.js';
import type { Statements } from './sqlite-schema.js';
import type { ClientRow, StorageTx, StoredHistoryEntry, StoredRecord, WritesAfter } from './storage.js';

/**
 * One open transaction. It refuses use once its transaction has ended, so a leaked handle cannot
 * write into a later caller's transaction. Versions after a scope's first are counted in memory
 * (`ScopeHeads`); `finish()` writes the heads before the transaction's savepoint is released.
 */
export class SqliteTx implements StorageTx {
  private open = true;
  private savepoints = 0;
  private readonly heads = new ScopeHeads();
  private readonly json = new JsonTexts();

  constructor(
    private readonly db: Database.Database,
    private readonly st: Statements,
  ) {}

  /** Writes the scope heads allocated in memory; call once `fn` resolved, before releasing. */
  finish(): void {
    const st = this.check();
    for (const { scope, head } of this.heads.dirty()) st.setHead.run(head, scope);
    this.heads.written();
  }

  end(): void {
    this.open = false;
  }

  private check(): Statements {
    if (!this.open) throw new Error('storage transaction already ended');
    return this.st;
  }

  async getClient(clientId: ClientId): Promise<ClientRow | undefined> {
    const row = this.check().getClient.get(clientId);
    return row && toClient(row);
  }

  async putClient(row: ClientRow): Promise<void> {
    this.check().putClient.run(row.clientId, row.userId, row.lastMid);
  }

  async getRecord(
    scope: ScopeId,
    collection: CollectionName,
    id: RecordId,
  ): Promise<StoredRecord | undefined> {
    const row = this.check().getRecord.get(scope, collection, id);
    return row && toRecord(row);
  }

  async putRecord(r: StoredRecord): Promise<void> {
    const st = this.check();
    st.putRecord.run(
      r.scope,
      r.collection,
      r.id,
      r.version,
      this.json.of(r.value),
      r.clientId,
      r.mid,
      r.updatedAt,
    );
  }

  async nextVersion(scope: ScopeId): Promise<Version> {
    const st = this.check();
    const next = this.heads.bump(scope);
    if (next !== undefined) return asVersion(next);
    const row = st.nextVersion.get(scope);
    if (!row) throw new Error(`no version allocated for scope ${scope}`);
    this.heads.stored(scope, row.head);
    return asVersion(row.head);
  }

  async appendHistory(e: StoredHistoryEntry): Promise<void> {
    this.check().appendHistory.run(
      e.scope,
      e.collection,
      e.id,
      e.version,
      e.prevVersion,
      e.op,
      this.json.of(e.value),
      e.clientId,
      e.mid,
      e.userId,
      e.serverTime,
      e.conflict === null ? null : JSON.stringify(e.conflict),
      e.restoredFrom,
    );
  }

  async getHistoryEntry(
    scope: ScopeId,
    collection: CollectionName,
    id: RecordId,
    version: Version,
  ): Promise<StoredHistoryEntry | undefined> {
    const row = this.check().historyEntry.get({ scope, collection, id, version });
    return row && toHistory(row);
  }

  async writesAfter(
    scope: ScopeId,
    collection: CollectionName,
    id: RecordId,
    after: Version,
    clientId: ClientId,
  ): Promise<WritesAfter> {
    const row = this.check().writesAfter.get({ scope, collection, id, after, client: clientId });
    return { reaches: row?.first_prev === after, others: row?.others === 1 };
  }

  async savepoint<T>(fn: () => Promise<T>): Promise<T> {
    this.check();
    // Names are never reused within a transaction, so an inner savepoint cannot shadow an outer one.
    const name = `sp_${++this.savepoints}`;
    this.db.exec(`SAVEPOINT ${name}`);
    this.heads.enter();
    try {
      const result = await fn();
      this.db.exec(`RELEASE ${name}`);
      this.heads.leave(true);
      return result;
    } catch (err) {
      this.heads.leave(false);
      // Some errors (e.g. SQLITE_FULL) roll the whole transaction back; then the outer commit fails.
      if (this.db.inTransaction) this.db.exec(`ROLLBACK TO ${name}; RELEASE ${name}`);
      throw err;
    }
  }
}
