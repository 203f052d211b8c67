/**
 * Page side of B2: the observer's log of when each revision of the shared record first arrived
 * (shared clock), checked against what the writer wrote. Arrivals and waits can come in either
 * order.
 */
import { benchCard, cardDiff } from './records.js';
import { sharedNow } from './page-runtime.js';

export function revisionLog() {
  const arrived = new Map<number, number>();
  const waiting = new Map<number, (at: number) => void>();
  let failure: Error | undefined;
  return {
    /** Records an observed value (a card, or undefined before the first write). */
    note(value: unknown): void {
      const at = sharedNow();
      if (value === undefined || value === null) return;
      const rev = (value as { rev?: unknown }).rev;
      if (typeof rev !== 'number') {
        failure ??= new Error(`observer saw a value without a revision: ${JSON.stringify(value)}`);
        return;
      }
      const diff = cardDiff(value, benchCard(0, rev));
      if (diff !== undefined) failure ??= new Error(`observer saw a wrong value at rev ${rev}: ${diff}`);
      if (arrived.has(rev)) return;
      arrived.set(rev, at);
      waiting.get(rev)?.(at);
      waiting.delete(rev);
    },
    api: {
      seen(rev: number, timeoutMs: number): Promise<number> {
        if (failure !== undefined) return Promise.reject(failure);
        const at = arrived.get(rev);
        if (at !== undefined) return Promise.resolve(at);
        return new Promise<number>((resolve, reject) => {
          const timer = setTimeout(() => {
            waiting.delete(rev);
            const last = Math.max(-1, ...arrived.keys());
            reject(failure ?? new Error(`rev ${rev} not seen within ${timeoutMs} ms (last seen ${last})`));
          }, timeoutMs);
          waiting.set(rev, (when) => {
            clearTimeout(timer);
            if (failure !== undefined) reject(failure);
            else resolve(when);
          });
        });
      },
    },
  };
}
