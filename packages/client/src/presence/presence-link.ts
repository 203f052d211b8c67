import {
  PresenceMessageSchema,
  asScopeId,
  type JsonValue,
  type PresenceEntry,
  type SyncError,
} from '@syncline/protocol';
import { request, type ClientSocket } from '../engine/transport.js';

/** A received entry and when it expires unless the server re-sends it (epoch ms). */
export interface HeldEntry {
  readonly entry: PresenceEntry;
  readonly expiresAt: number;
}

/** What the tabs of this device want the server to know: entries by scope and tab, and watches. */
export interface DesiredPresence {
  readonly entries: ReadonlyMap<string, ReadonlyMap<string, JsonValue>>;
  readonly watching: ReadonlySet<string>;
}

export interface PresenceLinkDeps {
  readonly now: () => number;
  readonly requestTimeoutMs: number;
  /** A scope's received entries changed (also to empty when the socket is gone). */
  readonly onView: (scope: string, entries: readonly HeldEntry[]) => void;
  readonly onError: (error: SyncError) => void;
}

const entryKey = (client: string, tab: string): string => `${client}\u0000${tab}`;
const sentKey = (scope: string, tab: string): string => `${scope}\u0000${tab}`;

/**
 * The leader tab's side of presence: brings the server in line with what every tab of this
 * device wants (`sync`: watch, set and leave, only what changed since the last call on this
 * socket), and keeps what the server says of each watched scope, dropping an entry that is not
 * re-sent within its `ttlMs`. A new socket starts from nothing (the server dropped the old
 * socket's entries), so everything is announced again on reconnect. A server without presence
 * (`unknown_event`) is not asked again on this socket.
 */
export class PresenceLink {
  #socket: ClientSocket | undefined;
  #unsupported = false;
  /** Requests sent so far (on any socket). */
  #sent = 0;
  readonly #sentEntries = new Map<string, string>();
  readonly #sentWatch = new Set<string>();
  readonly #remote = new Map<string, Map<string, HeldEntry>>();
  readonly #onPresence = (raw: unknown) => this.#receive(raw);
  readonly #onDisconnect = () => this.attach(undefined);

  constructor(private readonly deps: PresenceLinkDeps) {}

  get attached(): ClientSocket | undefined {
    return this.#socket;
  }

  /** Uses `socket` from now on (undefined: none); what the old one received is forgotten. */
  attach(socket: ClientSocket | undefined): void {
    if (socket === this.#socket) return;
    const old = this.#socket;
    old?.off('presence', this.#onPresence);
    old?.off('disconnect', this.#onDisconnect);
    this.#socket = socket?.connected === true ? socket : undefined;
    this.#unsupported = false;
    this.#sentEntries.clear();
    this.#sentWatch.clear();
    // Without a connection nothing is known of the others: show none rather than stale ones.
    for (const scope of [...this.#remote.keys()]) {
      this.#remote.delete(scope);
      this.deps.onView(scope, []);
    }
    this.#socket?.on('presence', this.#onPresence);
    this.#socket?.on('disconnect', this.#onDisconnect);
  }

  /** Sends what changed between `desired` and what this socket was told; returns how many requests. */
  sync(desired: DesiredPresence): number {
    const socket = this.#socket;
    if (!socket || this.#unsupported) return 0;
    const before = this.#sent;
    for (const scope of desired.watching) {
      if (this.#sentWatch.has(scope)) continue;
      this.#sentWatch.add(scope);
      this.#send(socket, 'presence_watch', { scope: asScopeId(scope), watch: true });
    }
    for (const scope of [...this.#sentWatch]) {
      if (desired.watching.has(scope)) continue;
      this.#sentWatch.delete(scope);
      this.#remote.delete(scope);
      this.#send(socket, 'presence_watch', { scope: asScopeId(scope), watch: false });
    }
    const wanted = new Set<string>();
    for (const [scope, tabs] of desired.entries) {
      for (const [tab, state] of tabs) {
        const key = sentKey(scope, tab);
        wanted.add(key);
        const json = JSON.stringify(state);
        if (this.#sentEntries.get(key) === json) continue;
        this.#sentEntries.set(key, json);
        this.#send(socket, 'presence_set', { scope: asScopeId(scope), tab, state });
      }
    }
    for (const key of [...this.#sentEntries.keys()]) {
      if (wanted.has(key)) continue;
      this.#sentEntries.delete(key);
      const [scope = '', tab = ''] = key.split('\u0000');
      this.#send(socket, 'presence_leave', { scope: asScopeId(scope), tab });
    }
    return this.#sent - before;
  }

  /** Drops entries past their expiry and reports the scopes that changed. */
  prune(): void {
    const now = this.deps.now();
    for (const [scope, entries] of this.#remote) {
      let changed = false;
      for (const [key, held] of entries) {
        if (held.expiresAt > now) continue;
        entries.delete(key);
        changed = true;
      }
      if (changed) this.deps.onView(scope, [...entries.values()]);
    }
  }

  /** The entries currently held for `scope`. */
  view(scope: string): HeldEntry[] {
    return [...(this.#remote.get(scope)?.values() ?? [])];
  }

  #receive(raw: unknown): void {
    const parsed = PresenceMessageSchema.safeParse(raw);
    if (!parsed.success) return;
    const msg = parsed.data;
    if (!this.#sentWatch.has(msg.scope) && !this.#watchedBySet(msg.scope)) return;
    let entries = this.#remote.get(msg.scope);
    if (!entries) this.#remote.set(msg.scope, (entries = new Map<string, HeldEntry>()));
    const expiresAt = this.deps.now() + msg.ttlMs;
    for (const entry of msg.entries) entries.set(entryKey(entry.client, entry.tab), { entry, expiresAt });
    for (const key of msg.left) entries.delete(entryKey(key.client, key.tab));
    this.deps.onView(msg.scope, [...entries.values()]);
  }

  /** A `presence_set` watches its scope on the server too. */
  #watchedBySet(scope: string): boolean {
    for (const key of this.#sentEntries.keys()) if (key.startsWith(`${scope}\u0000`)) return true;
    return false;
  }

  #send(
    socket: ClientSocket,
    event: 'presence_set' | 'presence_leave' | 'presence_watch',
    payload: Parameters<typeof request<typeof event>>[2],
  ): void {
    this.#sent++;
    request(socket, event, payload as never, this.deps.requestTimeoutMs).then(
      (res) => {
        if (res.ok) return;
        if (res.error.code === 'unknown_event') this.#unsupported = true;
        else this.deps.onError(res.error);
        // Retryable (rate_limited): forget it was sent, so the next sync tries again; a final
        // refusal (forbidden, too large) stays marked sent, so it is not repeated.
        if (!res.error.retryable) return;
        if (event === 'presence_watch') this.#sentWatch.delete(payload.scope);
        if (event === 'presence_set')
          this.#sentEntries.delete(sentKey(payload.scope, (payload as { tab: string }).tab));
      },
      () => undefined, // timed out or disconnected: the next socket announces everything again
    );
  }
}
