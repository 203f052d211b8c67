/**
 * Leader election between tabs (or same-process instances) sharing one database: only the
 * leader runs the sync engine and holds the socket; the others write to the shared outbox.
 */
export interface LeaderElection {
  /**
   * Asks to lead `name`. `onLeader` runs once leadership is granted; it lasts until `resign()`
   * is called or the holder goes away (tab closed), and then the next campaigner is granted.
   */
  campaign(name: string, onLeader: () => void): { resign(): Promise<void> };
}

interface LockManagerLike {
  request(name: string, options: { signal?: AbortSignal }, cb: () => Promise<void>): Promise<unknown>;
}

/** Web Locks: the browser releases the lock when the tab closes or crashes. */
export function webLocksElection(locks: LockManagerLike): LeaderElection {
  return {
    campaign(name, onLeader) {
      const abort = new AbortController();
      let release!: () => void;
      const held = new Promise<void>((r) => (release = r));
      const done = locks
        .request(name, { signal: abort.signal }, async () => {
          onLeader();
          await held;
        })
        .catch(() => undefined);
      return {
        resign: async () => {
          abort.abort();
          release();
          await done;
        },
      };
    },
  };
}

/** An in-process election with Web Locks semantics (FIFO hand-over), for Node and tests. */
export function memoryElection(): LeaderElection {
  const queues = new Map<string, { onLeader: () => void; id: number }[]>();
  let ids = 0;
  const grant = (name: string) => {
    const head = queues.get(name)?.[0];
    if (head) queueMicrotask(head.onLeader);
  };
  return {
    campaign(name, onLeader) {
      const id = ++ids;
      const queue = queues.get(name) ?? [];
      queues.set(name, queue);
      queue.push({ onLeader, id });
      if (queue.length === 1) grant(name);
      return {
        resign: async () => {
          const q = queues.get(name) ?? [];
          const wasHead = q[0]?.id === id;
          queues.set(
            name,
            q.filter((c) => c.id !== id),
          );
          if (wasHead) grant(name);
          await Promise.resolve();
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
