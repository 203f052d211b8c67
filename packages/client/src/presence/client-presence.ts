import { Observable, Subject, filter, map, startWith } from 'rxjs';
import { inspectJson, type JsonValue, type Limits, type SyncError } from '@syncline/protocol';
import { clientError } from '../errors.js';
import type { ClientSocket } from '../engine/transport.js';
import { PresenceLink, type DesiredPresence, type HeldEntry } from './presence-link.js';
import { openTabChannel, type TabChannel, type TabMessage, type TabRecord } from './tab-channel.js';

/** One tab present in a scope, as `presence$` shows it. */
export interface PresenceMember {
  /** The user id the server authenticated (never what a client claims); `''` for this tab until the server has confirmed it. */
  readonly user: string;
  /** The client id (one per database per device): tabs of one device share it. */
  readonly clientId: string;
  /** The tab (one per `SyncClient` instance). */
  readonly tab: string;
  readonly state: JsonValue;
  /** This tab's own entry. */
  readonly self: boolean;
  /** Another tab of this device (same client id). */
  readonly sameDevice: boolean;
}

export interface ClientPresenceDeps {
  readonly dbName: string;
  readonly tab: string;
  readonly clientId: () => string | undefined;
  readonly now: () => number;
  readonly limits: Limits;
  readonly requestTimeoutMs: number;
  readonly onError: (error: SyncError) => void;
}

/** How often each tab re-announces itself to the leader, and when the leader forgets a silent one. */
const TAB_HEARTBEAT_MS = 1000;
const TAB_TTL_MS = 3500;
/** Presence updates are coalesced to at most one round per this many ms (the server allows 10/s). */
const SEND_EVERY_MS = 120;

/**
 * Ephemeral presence for one `SyncClient` (one tab). Every tab announces its own entries and
 * watched scopes on a BroadcastChannel per database; the leader tab, which holds the socket,
 * merges them (a tab not heard of for a few seconds, or that said goodbye, is dropped) and sends
 * them through its `PresenceLink`, then posts what the server says of each watched scope back
 * to the tabs. Each tab is its own entry on the server. Without BroadcastChannel a tab only
 * publishes and sees presence while it leads.
 */
export class ClientPresence {
  readonly #mine = new Map<string, JsonValue>();
  readonly #watchers = new Map<string, number>();
  readonly #tabs = new Map<string, TabRecord & { readonly seenAt: number }>();
  readonly #views = new Map<string, readonly HeldEntry[]>();
  readonly #changed$ = new Subject<string>();
  readonly #link: PresenceLink;
  #channel: TabChannel | undefined;
  #leading = false;
  #steppingDown = false;
  #userId = '';
  #sendTimer: ReturnType<typeof setTimeout> | undefined;
  #lastSend = Number.NEGATIVE_INFINITY;
  /** The heartbeat, running only while there is presence to keep (see `#wake`). */
  #tick: ReturnType<typeof setInterval> | undefined;
  #started = false;
  #onPageHide: (() => void) | undefined;

  constructor(private readonly d: ClientPresenceDeps) {
    this.#link = new PresenceLink({
      now: d.now,
      requestTimeoutMs: d.requestTimeoutMs,
      onError: d.onError,
      onView: (scope, entries) => {
        // Stepping down: the tabs keep what they saw (it expires) until the next leader reports.
        if (this.#steppingDown) return;
        this.#setView(scope, entries);
        this.#channel?.post({ t: 'view', scope, entries: [...entries] });
      },
    });
  }

  /** Opens the cross-tab channel and starts announcing this tab (after `start()`). */
  start(): void {
    if (this.#started) return;
    this.#started = true;
    this.#channel = openTabChannel(this.d.dbName, (m) => this.#receive(m));
    const win = globalThis as { addEventListener?: (e: string, f: () => void) => void };
    if (typeof win.addEventListener === 'function') {
      // A closing page says goodbye at once; the others notice a crashed one by its silence.
      this.#onPageHide = () => this.#channel?.post({ t: 'bye', tab: this.d.tab });
      win.addEventListener('pagehide', this.#onPageHide);
    }
    this.#announce();
  }

  stop(): void {
    this.#started = false;
    clearInterval(this.#tick);
    clearTimeout(this.#sendTimer);
    this.#tick = undefined;
    this.#sendTimer = undefined;
    this.#channel?.post({ t: 'bye', tab: this.d.tab });
    this.#channel?.close();
    this.#channel = undefined;
    const win = globalThis as { removeEventListener?: (e: string, f: () => void) => void };
    if (this.#onPageHide) win.removeEventListener?.('pagehide', this.#onPageHide);
    this.#link.attach(undefined);
  }

  /** Leading or not, and the leader's current socket (undefined while disconnected). */
  lead(leading: boolean, socket: ClientSocket | undefined): void {
    const was = this.#leading;
    this.#leading = leading;
    this.#steppingDown = was && !leading;
    this.#link.attach(leading ? socket : undefined);
    this.#steppingDown = false;
    // A new leader asks every tab to announce itself now rather than at its next heartbeat.
    if (leading && !was) this.#channel?.post({ t: 'hello' });
    this.#scheduleSend();
  }

  set(scope: string, state: JsonValue): void {
    const size = inspectJson(state, {
      maxDepth: this.d.limits.maxDepth,
      maxBytes: this.d.limits.maxPresenceBytes,
    });
    if (!size.ok) throw clientError('invalid_argument', `setPresence: ${size.message} at ${size.path}`);
    this.#mine.set(scope, state);
    this.#changed$.next(scope);
    this.#announce();
    this.#wake();
  }

  clear(scope: string): void {
    if (!this.#mine.delete(scope)) return;
    this.#changed$.next(scope);
    this.#announce();
  }

  /** Every tab present in `scope` (this one marked `self`); watching starts on subscription. */
  members$(scope: string): Observable<PresenceMember[]> {
    return new Observable<PresenceMember[]>((sub) => {
      this.#watchers.set(scope, (this.#watchers.get(scope) ?? 0) + 1);
      this.#announce();
      this.#wake();
      const inner = this.#changed$
        .pipe(
          filter((s) => s === scope),
          startWith(scope),
          map(() => this.#members(scope)),
        )
        .subscribe(sub);
      return () => {
        inner.unsubscribe();
        const n = (this.#watchers.get(scope) ?? 1) - 1;
        if (n > 0) this.#watchers.set(scope, n);
        else this.#watchers.delete(scope);
        this.#announce();
      };
    });
  }

  #members(scope: string): PresenceMember[] {
    const clientId = this.d.clientId();
    const now = this.d.now();
    const out: PresenceMember[] = [];
    for (const { entry, expiresAt } of this.#views.get(scope) ?? []) {
      if (expiresAt <= now) continue;
      const self = entry.client === clientId && entry.tab === this.d.tab;
      if (self) continue; // this tab's own entry comes from what it set, below
      out.push({
        user: entry.user,
        clientId: entry.client,
        tab: entry.tab,
        state: entry.state,
        self: false,
        sameDevice: entry.client === clientId,
      });
    }
    const mine = this.#mine.get(scope);
    if (mine !== undefined && clientId !== undefined) {
      out.push({ user: this.#userId, clientId, tab: this.d.tab, state: mine, self: true, sameDevice: true });
    }
    return out;
  }

  #record(): TabRecord {
    return { t: 'tab', tab: this.d.tab, entries: [...this.#mine], watching: [...this.#watchers.keys()] };
  }

  /** Tells the leader (itself, or over the channel) what this tab wants. */
  #announce(): void {
    if (!this.#started) return;
    if (this.#leading) this.#scheduleSend();
    else this.#channel?.post(this.#record());
  }

  #heartbeat(): void {
    if (!this.#leading) {
      if (this.#mine.size > 0 || this.#watchers.size > 0) this.#channel?.post(this.#record());
    } else {
      const now = this.d.now();
      for (const [tab, r] of this.#tabs) if (now - r.seenAt > TAB_TTL_MS) this.#tabs.delete(tab);
      this.#link.prune();
      this.#scheduleSend();
    }
    // Every tab drops what expired from its own views (a leader that died stops refreshing them).
    const now = this.d.now();
    for (const [scope, entries] of this.#views) {
      if (entries.every((h) => h.expiresAt <= now)) this.#views.delete(scope);
      this.#changed$.next(scope);
    }
    if (this.#idle()) {
      clearInterval(this.#tick);
      this.#tick = undefined;
    }
  }

  /**
   * Starts the heartbeat if it is not running: a client that never uses presence runs no timer,
   * and one whose presence is all gone stops it (`#heartbeat`).
   */
  #wake(): void {
    if (!this.#started || this.#tick !== undefined) return;
    this.#tick = setInterval(() => this.#heartbeat(), TAB_HEARTBEAT_MS);
    (this.#tick as { unref?: () => void }).unref?.();
  }

  /** Nothing to announce, to watch, to hold for other tabs or to expire. */
  #idle(): boolean {
    return (
      this.#mine.size === 0 && this.#watchers.size === 0 && this.#tabs.size === 0 && this.#views.size === 0
    );
  }

  #receive(m: TabMessage): void {
    switch (m.t) {
      case 'tab':
        if (!this.#leading) return;
        this.#tabs.set(m.tab, { ...m, seenAt: this.d.now() });
        this.#wake();
        // A tab that starts watching gets what is known at once.
        for (const scope of m.watching)
          this.#channel?.post({ t: 'view', scope, entries: this.#link.view(scope) });
        this.#scheduleSend();
        return;
      case 'bye':
        if (this.#tabs.delete(m.tab)) this.#scheduleSend();
        return;
      case 'hello':
        if (!this.#leading) this.#channel?.post(this.#record());
        return;
      case 'view':
        if (!this.#leading) this.#setView(m.scope, m.entries);
        return;
    }
  }

  #setView(scope: string, entries: readonly HeldEntry[]): void {
    const clientId = this.d.clientId();
    const me = entries.find((h) => h.entry.client === clientId && h.entry.tab === this.d.tab);
    if (me) this.#userId = me.entry.user;
    if (entries.length === 0) this.#views.delete(scope);
    else {
      this.#views.set(scope, entries);
      this.#wake();
    }
    this.#changed$.next(scope);
  }

  /**
   * Sends soon: the first change at once (after the current task, so a burst of calls goes as
   * one), later ones at most every `SEND_EVERY_MS` (the server's presence budget is 10/s).
   */
  #scheduleSend(): void {
    if (!this.#leading || this.#sendTimer !== undefined) return;
    const wait = Math.max(0, this.#lastSend + SEND_EVERY_MS - this.d.now());
    this.#sendTimer = setTimeout(() => {
      this.#sendTimer = undefined;
      if (!this.#leading) return;
      if (this.#link.sync(this.#desired()) > 0) this.#lastSend = this.d.now();
    }, wait);
  }

  #desired(): DesiredPresence {
    const entries = new Map<string, Map<string, JsonValue>>();
    const watching = new Set<string>();
    const add = (r: TabRecord) => {
      for (const [scope, state] of r.entries) {
        let tabs = entries.get(scope);
        if (!tabs) entries.set(scope, (tabs = new Map<string, JsonValue>()));
        tabs.set(r.tab, state);
      }
      for (const scope of r.watching) watching.add(scope);
    };
    add(this.#record());
    for (const r of this.#tabs.values()) add(r);
    return { entries, watching };
  }
}
