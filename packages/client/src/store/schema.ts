import type { JsonObject, Mutation, RecordState, ScopeId, SyncError } from '@syncline/protocol';

/** Names of Syncline's own tables inside the app's Dexie database. */
export const SYNCLINE_TABLES = {
  outbox: '_syncline_outbox',
  records: '_syncline_records',
  scopes: '_syncline_scopes',
  conflicts: '_syncline_conflicts',
  rejections: '_syncline_rejections',
  meta: '_syncline_meta',
} as const;

/**
 * Add these to the app's `db.version(n).stores({...})`. The outbox is keyed by mid (the order
 * mutations are pushed in); records by `[table+id]`.
 */
export const synclineStores: Readonly<Record<string, string>> = {
  [SYNCLINE_TABLES.outbox]: '&mid, [table+key]',
  [SYNCLINE_TABLES.records]: '&[table+id], scope',
  [SYNCLINE_TABLES.scopes]: '&scope',
  [SYNCLINE_TABLES.conflicts]: '&mid, [table+id]',
  [SYNCLINE_TABLES.rejections]: '&mid',
  [SYNCLINE_TABLES.meta]: '&key',
};

export const INTERNAL_TABLES: readonly string[] = Object.values(SYNCLINE_TABLES);

/** One queued mutation. Written in the same IndexedDB transaction as the app's change. */
export interface OutboxEntry {
  readonly mid: number;
  readonly table: string;
  readonly key: string;
  readonly mutation: Mutation;
  readonly createdAt: number;
  /** For `restore`: the restored value, so the change shows before the server answers. */
  readonly restoreValue?: JsonObject | null;
  /** Dropped by `reset({ discardPending: true })`: pushed only to consume its mid (see `discard.ts`). */
  readonly discarded?: boolean;
}

/**
 * What the client knows about one synced record besides its visible value (in the app table):
 * the last server-confirmed version, and while it has pending mutations, the confirmed value
 * they are replayed on. `includedMid`: this client's mutations up to this mid are already
 * reflected in the confirmed value, so they are never replayed on top of it.
 */
export interface RecordMeta {
  readonly table: string;
  readonly id: string;
  readonly scope: ScopeId;
  readonly version: number;
  /** Present while mutations are pending: the confirmed value (null = absent/deleted). */
  readonly confirmed?: JsonObject | null;
  readonly includedMid: number;
}

/** Per-scope sync position. `cursor` only moves past versions stored durably. */
export interface ScopeRow {
  readonly scope: ScopeId;
  readonly cursor: number;
  readonly horizon: number;
  /** A pull has reached the scope's head at least once since this copy began (initial sync done). */
  readonly synced?: boolean;
}

/** A manual-strategy conflict waiting for the user. */
export interface ConflictEntry {
  readonly mid: number;
  readonly table: string;
  readonly id: string;
  readonly scope: ScopeId;
  /** The value the change was based on (null = the record did not exist). */
  readonly base: JsonObject | null;
  /** What this client wanted (null = delete). */
  readonly mine: JsonObject | null;
  /** The server's current record. */
  readonly theirs: RecordState;
  readonly mutation: Mutation;
  readonly createdAt: number;
  /**
   * Key paths (wire encoding) this device changed with `inc` on this record while the conflict
   * was open: merged by the server on their own, so never offered for choice nor written by a
   * resolution. Absent on entries stored before it existed.
   */
  readonly counters?: readonly string[];
}

/** A mutation the server refused for good; it has been rolled back locally. */
export interface RejectionEntry {
  readonly mid: number;
  readonly table: string;
  readonly id: string;
  readonly mutation: Mutation;
  readonly error: SyncError;
  readonly at: number;
}

export interface MetaRow {
  readonly key: 'clientId' | 'nextMid';
  readonly value: string | number;
}
