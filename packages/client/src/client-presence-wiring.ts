// This tab's presence as the client wires it: a `ClientPresence` that announces from `start()`
// to `stop()`, and sends through the engine's socket whenever this tab leads (the leader's
// engine state decides which socket is live). The facade's presence methods call this.
import { combineLatest, takeUntil, type Observable, type Subscription } from 'rxjs';
import type { JsonValue } from '@syncline/protocol';
import type { ClientLeadership } from './client-leadership.js';
import { ClientPresence, type PresenceMember } from './presence/client-presence.js';
import type { ResolvedOptions } from './resolve-options.js';

export type { PresenceMember } from './presence/client-presence.js';

export interface PresenceWiringDeps {
  readonly dbName: string;
  readonly options: ResolvedOptions;
  readonly leadership: ClientLeadership;
  /** This database's client id once the client has started. */
  readonly clientId: () => string | undefined;
  /** Emits (or completes) when the client closes: `members$` streams end then. */
  readonly closed$: Observable<void>;
}

export class PresenceWiring {
  readonly #presence: ClientPresence;
  readonly #leadership: ClientLeadership;
  readonly #closed$: Observable<void>;
  /** Hands the leader's socket to presence while started (one subscription, however often started). */
  #lead: Subscription | undefined;

  constructor(deps: PresenceWiringDeps) {
    const { options, leadership } = deps;
    this.#leadership = leadership;
    this.#closed$ = deps.closed$;
    this.#presence = new ClientPresence({
      dbName: deps.dbName,
      tab: `${options.now().toString(36)}${options.random().toString(36).slice(2, 10)}`,
      clientId: deps.clientId,
      now: options.now,
      limits: options.limits,
      requestTimeoutMs: options.requestTimeoutMs,
      // A refusal by the server is reported like any other sync error.
      onError: (error) => leadership.errors$.next({ ...error, at: options.now() }),
    });
  }

  /** Starts announcing this tab, and follows leadership (after the client id is known). */
  start(): void {
    this.#presence.start();
    const leadership = this.#leadership;
    this.#lead ??= combineLatest([leadership.leader$, leadership.engineState$]).subscribe(([leading]) =>
      this.#presence.lead(leading, leadership.engine?.socket),
    );
  }

  /** Stops following leadership and withdraws this tab. */
  stop(): void {
    this.#lead?.unsubscribe();
    this.#lead = undefined;
    this.#presence.stop();
  }

  set(scope: string, state: JsonValue): void {
    this.#presence.set(scope, state);
  }

  clear(scope: string): void {
    this.#presence.clear(scope);
  }

  members$(scope: string): Observable<PresenceMember[]> {
    return this.#presence.members$(scope).pipe(takeUntil(this.#closed$));
  }
}
