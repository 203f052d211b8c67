/**
 * Leader election between tabs (or same-process instances) sharing one database: only the
 * leader runs the sync engine and holds the socket; the others write to the shared outbox.
 */
export interface LeaderElection {
  /**
   * Asks to lead `name`. `onLeader` runs once leadership is granted; it lasts until `resign()`
   * is called or the holder goes away (tab closed), and then the next campaigner is granted.
   * `onLost` runs when another campaigner took leadership over (`takeOver`) from this one while
   * it led; this campaign is then over (campaign again to wait for the next turn).
   */
  campaign(name: string, onLeader: () => void, onLost?: () => void): LeaderCampaign;
}

/** One campaign of a {@link LeaderElection}. */
export interface LeaderCampaign {
  /** Leaves the election (releasing leadership if held). */
  resign(): Promise<void>;
  /**
   * Takes leadership from the current holder at once (a frozen or hung leader, see the lease in
   * `leader-lease.ts`); the holder's `onLost` runs (when its code runs again), then `onLeader`
   * here. Optional: without it a client never takes over from a leader that does not resign.
   */
  takeOver?(): void;
}

interface LockManagerLike {
  request(
    name: string,
    options: { signal?: AbortSignal; steal?: boolean },
    cb: () => Promise<void>,
  ): Promise<unknown>;
}

/**
 * Web Locks: the browser releases the lock when the tab closes or crashes; `takeOver` steals it
 * (the old holder's request rejects, which it sees when it wakes).
 */
export function webLocksElection(locks: LockManagerLike): LeaderElection {
  return {
    campaign(name, onLeader, onLost) {
      let resigned = false;
      let release!: () => void;
      const held = new Promise<void>((r) => (release = r));
      let current = 0;
      let abort = new AbortController();
      let done: Promise<unknown> = Promise.resolve();
      const ask = (steal: boolean) => {
        const id = ++current;
        abort = new AbortController();
        let granted = false;
        // `steal` may not be combined with a signal; a steal is never pending, so none is needed.
        done = locks
          .request(name, steal ? { steal: true } : { signal: abort.signal }, async () => {
            granted = true;
            onLeader();
            await held;
          })
          .catch(() => {
            // Stolen while held (a pending request aborted by resign or takeOver is not a loss).
            if (granted && !resigned && id === current) onLost?.();
          });
      };
      ask(false);
      return {
        resign: async () => {
          resigned = true;
          abort.abort();
          release();
          await done;
        },
        takeOver: () => {
          if (resigned) return;
          abort.abort();
          ask(true);
        },
      };
    },
  };
}

interface Campaigner {
  readonly id: number;
  readonly onLeader: () => void;
  readonly onLost: (() => void) | undefined;
}

/**
 * An in-process election with Web Locks semantics (FIFO hand-over, `takeOver` steals), for
 * Node and tests.
 */
export function memoryElection(): LeaderElection {
  const queues = new Map<string, Campaigner[]>();
  let ids = 0;
  const grant = (name: string) => {
    const head = queues.get(name)?.[0];
    if (head) queueMicrotask(head.onLeader);
  };
  const without = (name: string, id: number) => {
    const q = queues.get(name) ?? [];
    queues.set(
      name,
      q.filter((c) => c.id !== id),
    );
    return q[0]?.id === id;
  };
  return {
    campaign(name, onLeader, onLost) {
      const me: Campaigner = { id: ++ids, onLeader, onLost };
      const queue = queues.get(name) ?? [];
      queues.set(name, queue);
      queue.push(me);
      if (queue.length === 1) grant(name);
      return {
        resign: async () => {
          if (without(name, me.id)) grant(name);
          await Promise.resolve();
        },
        takeOver: () => {
          const q = queues.get(name) ?? [];
          const head = q[0];
          if (!q.includes(me) || head === me) return;
          // The old holder's campaign ends, as a stolen Web Lock's request does.
          if (head) {
            without(name, head.id);
            if (head.onLost) queueMicrotask(head.onLost);
          }
          without(name, me.id);
          queues.get(name)!.unshift(me);
          grant(name);
        },
      };
    },
  };
}

const processElection = memoryElection();

/** Web Locks where the platform has them, otherwise one election shared by this process. */
export function defaultElection(): LeaderElection {
  const locks = (globalThis as { navigator?: { locks?: LockManagerLike } }).navigator?.locks;
  return locks ? webLocksElection(locks) : processElection;
}
