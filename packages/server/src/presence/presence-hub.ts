import type {
  ClientId,
  JsonValue,
  PresenceEntry,
  PresenceKey,
  PresenceMessage,
  ScopeId,
} from '@syncline/protocol';
import type { Logger } from '../ops/logger.js';
import type { TimerHandle, Timers } from '../ops/timers.js';
import type { SyncIo } from '../transport/context.js';

/** Prefix of every presence room's name (watchers of one scope's presence). */
export const PRESENCE_ROOM_PREFIX = 'presence:';

/** The Socket.IO room of a scope's presence watchers (on every node, through the adapter). */
export const presenceRoom = (scope: ScopeId): string => `${PRESENCE_ROOM_PREFIX}${scope}`;

/** How often a node re-sends its entries, and how long receivers keep one that is not re-sent. */
export interface PresenceTiming {
  readonly refreshMs: number;
  readonly ttlMs: number;
}

/** Defaults: a node re-sends every 2 s; an entry of a node that died is gone after 5 s. */
export const DEFAULT_PRESENCE_TIMING: PresenceTiming = { refreshMs: 2000, ttlMs: 5000 };

interface Held {
  readonly entry: PresenceEntry;
  readonly socketId: string;
}

const keyOf = (client: string, tab: string): string => `${client}\u0000${tab}`;
const toKey = ({ user, client, tab }: PresenceEntry): PresenceKey => ({ user, client, tab });

/**
 * One node's presence: the entries of its own sockets, in memory only (never stored), and their
 * fan-out. Every change goes to the scope's presence room with `io.to(room).emit`, which the
 * cluster adapter carries to every node's watchers; each node re-sends all its entries every
 * `refreshMs`, and receivers drop an entry not re-sent within `ttlMs`, so the entries of a node
 * that died (or lost its fan-out) vanish by themselves. A socket that disconnects leaves at once.
 *
 * A newcomer (`watch`) gets this node's entries at once and asks the other nodes for theirs
 * with a `presence_wanted` server-side emit (no ack: each node that holds entries of the scope
 * sends them straight to the newcomer's socket; one that misses the request is caught up by its
 * next refresh).
 */
export class PresenceHub {
  readonly #scopes = new Map<ScopeId, Map<string, Held>>();
  /** Per socket: the scope and key of each entry it holds. */
  readonly #bySocket = new Map<string, Map<string, { scope: ScopeId; key: string }>>();
  /** The armed refresh (boxed: a `TimerHandle` may be any value). */
  #timer: { readonly handle: TimerHandle } | undefined;
  #stopped = false;

  constructor(
    private readonly io: SyncIo,
    private readonly timers: Timers,
    readonly timing: PresenceTiming,
    private readonly clustered: boolean,
    private readonly logger: Logger,
  ) {}

  /** Answers other nodes' `presence_wanted`. The refresh runs only while this node holds entries. */
  start(): void {
    if (this.clustered) {
      this.io.on('presence_wanted', (scope: ScopeId, socketId: string) => this.#sendTo(socketId, scope));
    }
  }

  stop(): void {
    this.#stopped = true;
    if (this.#timer !== undefined) this.timers.clearTimeout(this.#timer.handle);
    this.#timer = undefined;
  }

  /** Entries held by this node's sockets, and the scopes they are in (for the metrics). */
  size(): { entries: number; scopes: number } {
    let entries = 0;
    for (const held of this.#bySocket.values()) entries += held.size;
    let scopes = 0;
    for (const held of this.#scopes.values()) if (held.size > 0) scopes++;
    return { entries, scopes };
  }

  /** Entries this socket holds (over all scopes). */
  count(socketId: string): number {
    return this.#bySocket.get(socketId)?.size ?? 0;
  }

  /** True when this socket already holds the entry of `(client, tab)` in `scope`. */
  holds(socketId: string, scope: ScopeId, client: ClientId, tab: string): boolean {
    return this.#scopes.get(scope)?.get(keyOf(client, tab))?.socketId === socketId;
  }

  /** Sets (or replaces) one tab's entry and tells the scope's watchers. */
  set(socketId: string, scope: ScopeId, key: PresenceKey, state: JsonValue): void {
    const entry: PresenceEntry = { ...key, state };
    const k = keyOf(key.client, key.tab);
    let entries = this.#scopes.get(scope);
    if (!entries) this.#scopes.set(scope, (entries = new Map<string, Held>()));
    const previous = entries.get(k);
    if (previous && previous.socketId !== socketId)
      this.#bySocket.get(previous.socketId)?.delete(`${scope}\u0000${k}`);
    entries.set(k, { entry, socketId });
    let held = this.#bySocket.get(socketId);
    if (!held) this.#bySocket.set(socketId, (held = new Map<string, { scope: ScopeId; key: string }>()));
    held.set(`${scope}\u0000${k}`, { scope, key: k });
    this.#emit(scope, [entry], []);
    this.#schedule();
  }

  /** Removes one tab's entry (if this socket holds it) and tells the scope's watchers. */
  leave(socketId: string, scope: ScopeId, client: ClientId, tab: string): void {
    const k = keyOf(client, tab);
    const held = this.#scopes.get(scope)?.get(k);
    if (held?.socketId !== socketId) return;
    this.#remove(scope, k);
    this.#bySocket.get(socketId)?.delete(`${scope}\u0000${k}`);
    this.#emit(scope, [], [toKey(held.entry)]);
  }

  /** A socket starts watching: this node's entries now, the other nodes' on request. */
  async watch(socketId: string, scope: ScopeId): Promise<void> {
    const socket = this.io.sockets.sockets.get(socketId);
    if (!socket) return;
    await socket.join(presenceRoom(scope));
    this.#sendTo(socketId, scope);
    if (this.clustered) this.io.serverSideEmit('presence_wanted', scope, socketId);
  }

  async unwatch(socketId: string, scope: ScopeId): Promise<void> {
    await this.io.sockets.sockets.get(socketId)?.leave(presenceRoom(scope));
  }

  /** The socket may no longer see `scope` (fresh credentials grant less): it leaves it entirely. */
  async revoke(socketId: string, scope: ScopeId): Promise<void> {
    await this.unwatch(socketId, scope);
    this.drop(socketId, scope);
  }

  /** The socket is gone (or lost `only`): every entry it held (in that scope) leaves now. */
  drop(socketId: string, only?: ScopeId): void {
    const held = this.#bySocket.get(socketId);
    if (only === undefined) this.#bySocket.delete(socketId);
    if (!held) return;
    const left = new Map<ScopeId, PresenceKey[]>();
    for (const [heldKey, { scope, key }] of held) {
      if (only !== undefined && scope !== only) continue;
      if (only !== undefined) held.delete(heldKey);
      const h = this.#scopes.get(scope)?.get(key);
      if (h?.socketId !== socketId) continue;
      this.#remove(scope, key);
      const list = left.get(scope);
      if (list) list.push(toKey(h.entry));
      else left.set(scope, [toKey(h.entry)]);
    }
    for (const [scope, keys] of left) this.#emit(scope, [], keys);
  }

  #remove(scope: ScopeId, key: string): void {
    const entries = this.#scopes.get(scope);
    entries?.delete(key);
    if (entries?.size === 0) this.#scopes.delete(scope);
  }

  #message(scope: ScopeId, entries: PresenceEntry[], left: PresenceKey[]): PresenceMessage {
    return { scope, ttlMs: this.timing.ttlMs, entries, left };
  }

  #emit(scope: ScopeId, entries: PresenceEntry[], left: PresenceKey[]): void {
    this.io.to(presenceRoom(scope)).emit('presence', this.#message(scope, entries, left));
  }

  #sendTo(socketId: string, scope: ScopeId): void {
    const entries = this.#scopes.get(scope);
    if (!entries || entries.size === 0) return;
    const list = [...entries.values()].map((h) => h.entry);
    // A socket id is a room too: the adapter delivers this on whichever node holds the socket.
    this.io.to(socketId).emit('presence', this.#message(scope, list, []));
  }

  /** Arms the refresh unless it is armed; it re-arms itself while entries remain. */
  #schedule(): void {
    if (this.#stopped || this.#timer !== undefined || this.#scopes.size === 0) return;
    const handle = this.timers.setTimeout(() => {
      this.#timer = undefined;
      try {
        for (const [scope, entries] of this.#scopes) {
          this.#emit(
            scope,
            [...entries.values()].map((h) => h.entry),
            [],
          );
        }
      } catch (err) {
        this.logger.warn('presence refresh failed', { err });
      }
      this.#schedule();
    }, this.timing.refreshMs);
    this.#timer = { handle };
  }
}
