/**
 * Input limits. The server enforces them on every inbound message before anything touches
 * storage; the client checks the same limits when a write is made, so it never queues a
 * mutation the server would refuse.
 */
export interface Limits {
  /** Largest inbound message, in bytes of its JSON encoding. */
  readonly maxPayloadBytes: number;
  /** Largest record value, in bytes of its JSON encoding. */
  readonly maxRecordBytes: number;
  /** Most mutations in one push. */
  readonly maxMutationsPerPush: number;
  /** Deepest nesting of objects/arrays inside a record value. */
  readonly maxDepth: number;
  /** Sustained events per second per socket (token bucket refill rate). */
  readonly eventsPerSecond: number;
  /** Burst size of the per-socket token bucket. */
  readonly eventBurst: number;
  /** Largest page a pull may ask for. */
  readonly maxPullLimit: number;
  /** Largest presence state, in bytes of its JSON encoding. */
  readonly maxPresenceBytes: number;
  /** Most presence entries one socket holds (over all its scopes and tabs). */
  readonly maxPresenceEntries: number;
  /** Sustained presence updates per second per socket (set and leave; a token bucket). */
  readonly presencePerSecond: number;
  /** Burst size of the per-socket presence bucket. */
  readonly presenceBurst: number;
}

export const DEFAULT_LIMITS: Limits = {
  maxPayloadBytes: 1024 * 1024,
  maxRecordBytes: 256 * 1024,
  maxMutationsPerPush: 500,
  maxDepth: 32,
  eventsPerSecond: 100,
  eventBurst: 200,
  maxPullLimit: 1000,
  maxPresenceBytes: 2048,
  maxPresenceEntries: 64,
  presencePerSecond: 10,
  presenceBurst: 20,
};

/** Nesting that the message envelope itself adds around a record value (push → mutations → m). */
export const ENVELOPE_DEPTH = 4;

/**
 * Bounds of a read-through `query` message (fixed by the protocol, checked by its schema): a
 * page of at most `maxPage` rows, at most `maxClauses` clauses of which an `in` lists at most
 * `maxInValues` values, field paths of at most `maxFieldLength` characters, and a cursor of at
 * most `maxCursorLength` characters.
 */
export const QUERY_LIMITS = {
  maxPage: 500,
  maxClauses: 16,
  maxInValues: 100,
  maxFieldLength: 256,
  maxCursorLength: 2048,
} as const;
