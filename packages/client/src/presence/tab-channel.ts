import type { JsonValue } from '@syncline/protocol';
import type { HeldEntry } from './presence-link.js';

/** A tab's presence as it announces it to the leader: its entries and the scopes it watches. */
export interface TabRecord {
  readonly t: 'tab';
  readonly tab: string;
  readonly entries: readonly (readonly [string, JsonValue])[];
  readonly watching: readonly string[];
}

/** Messages between the tabs of one database (structured clones, same origin only). */
export type TabMessage =
  | TabRecord
  /** The tab is going away (page hidden for good, client stopped). */
  | { readonly t: 'bye'; readonly tab: string }
  /** A new leader: every tab announces itself now. */
  | { readonly t: 'hello' }
  /** The leader's current view of a scope. */
  | { readonly t: 'view'; readonly scope: string; readonly entries: readonly HeldEntry[] };

export interface TabChannel {
  post(message: TabMessage): void;
  close(): void;
}

interface BroadcastChannelLike {
  postMessage(message: unknown): void;
  close(): void;
  onmessage: ((event: { data: unknown }) => void) | null;
}

/**
 * The presence channel of one database: a BroadcastChannel named after it (every tab of the
 * origin with that database, and other `SyncClient`s of the same database in one process).
 * Without BroadcastChannel, a channel that goes nowhere.
 */
export function openTabChannel(dbName: string, onMessage: (m: TabMessage) => void): TabChannel {
  const Ctor = (globalThis as { BroadcastChannel?: new (name: string) => BroadcastChannelLike })
    .BroadcastChannel;
  if (!Ctor) return { post: () => undefined, close: () => undefined };
  const channel = new Ctor(`syncline-presence:${dbName}`);
  channel.onmessage = (event) => {
    const m = event.data as TabMessage | null;
    if (m !== null && typeof m === 'object' && typeof (m as { t?: unknown }).t === 'string') onMessage(m);
  };
  (channel as { unref?: () => void }).unref?.();
  return {
    post: (m) => {
      try {
        channel.postMessage(m);
      } catch {
        // Closed (the client is stopping): nothing to tell.
      }
    },
    close: () => channel.close(),
  };
}
