/**
 * Live `changes` messages: each is applied through the write queue if it continues the scope's
 * cursor (`LocalStore.applyLive` decides it with `liveFit` in the transaction that applies it), dropped if
 * stale, and otherwise a gap. A gap while pushes are in flight is held: the missing versions may
 * be this client's own commits, which arrive in a push response, not as a broadcast. Held
 * messages are tried again after each settled push, and pulled for once nothing is in flight.
 * Any other gap, or a message that failed to apply, is pulled for (pulling is always complete).
 */
import type { Change, ChangesMessage, ScopeId } from '@syncline/protocol';
import { withScope } from '../sync-metrics.js';
import type { EngineContext } from './engine-context.js';

/** What to do with a gap: wait for the pushes in flight (they may fill it), or pull. */
export function onGap(pushesInFlight: boolean): 'hold' | 'pull' {
  return pushesInFlight ? 'hold' : 'pull';
}

/**
 * Up to which of this client's mids a change already reflects: its own mid when this client
 * made it, never below `floor` (what the server state it comes with is known to include).
 */
export function includedFor(change: Change, clientId: string, floor: number): number {
  return change.clientId === clientId && change.mid !== null ? Math.max(change.mid, floor) : floor;
}

/** The highest of this client's mids among `changes`, or `floor` if higher. */
export function highestOwnMid(changes: readonly Change[], clientId: string, floor: number): number {
  let highest = floor;
  for (const c of changes) if (c.clientId === clientId && c.mid !== null) highest = Math.max(highest, c.mid);
  return highest;
}

export class LiveChanges {
  /** Gaps met while pushes were in flight, in arrival order (see the header). */
  #held: ChangesMessage[] = [];
  /** This client's highest mid known to be reflected in server state we have applied. */
  #knownIncluded = 0;

  constructor(
    private readonly context: EngineContext,
    /** Whether pushes are on the wire unanswered (asked when a gap is met). */
    private readonly pushesInFlight: () => boolean,
  ) {}

  /** A message from the socket: applied in its turn in the write queue; pulled for if it fails. */
  receive(msg: ChangesMessage): void {
    void this.context.writes.run(() => this.#apply(msg)).catch(() => this.context.needPull(msg.scope));
  }

  /** Server state applied elsewhere (a pulled page, a push answer) includes this client's `mid`. */
  noteIncluded(mid: number): void {
    this.#knownIncluded = Math.max(this.#knownIncluded, mid);
  }

  /** Tries the held messages again, in order. Runs inside a write already in the queue. */
  async retryHeld(): Promise<void> {
    const held = this.#held;
    this.#held = [];
    for (const msg of held) await this.#apply(msg);
  }

  /** Nothing is in flight any more: the scopes of the gaps still held, to pull. */
  releaseHeld(): ScopeId[] {
    return this.#held.splice(0).map((msg) => msg.scope);
  }

  /** The socket is gone: the next connection pulls every scope anyway. */
  drop(): void {
    this.#held = [];
  }

  async #apply(msg: ChangesMessage): Promise<void> {
    const { context } = this;
    const { options } = context;
    if (!context.subscribed(msg.scope)) return;
    const end = msg.after + msg.changes.length;
    const out = await options.store.applyLive(msg.scope, msg.after, msg.changes, (c) =>
      includedFor(c, options.clientId, this.#knownIncluded),
    );
    if (out === 'stale') return; // already have all of it
    if (out === 'gap') {
      context.metric((m) => withScope(m, msg.scope, { head: end }));
      if (onGap(this.pushesInFlight()) === 'hold') {
        this.#held.push(msg);
        return;
      }
      context.needPull(msg.scope);
      context.wake();
      return;
    }
    this.#knownIncluded = highestOwnMid(out.fresh, options.clientId, this.#knownIncluded);
    context.metric((m) => withScope(m, msg.scope, { cursor: end, head: end }));
    context.set({ lastSyncedAt: options.now() });
    options.onActivity();
  }
}
