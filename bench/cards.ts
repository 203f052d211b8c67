/**
 * The record every benchmark writes: ~250 B of JSON, with a `seq` that tells a reader which
 * write it is looking at.
 */
export interface Card {
  [field: string]: string | number;
  id: string;
  board: string;
  title: string;
  notes: string;
  status: string;
  likes: number;
  seq: number;
}

export const BOARD = 'bench';
export const SCOPE = `board:${BOARD}`;

export function card(id: string, seq: number): Card {
  return {
    id,
    board: BOARD,
    title: `card ${seq}`,
    notes: 'n'.repeat(170),
    status: 'todo',
    likes: seq % 7,
    seq,
  };
}

/** `performance.now()` wall-clock equivalent shared by every process on the machine. */
export const wallMs = (): number => performance.timeOrigin + performance.now();

/** Rejects after `ms` with `what` in the message: a benchmark never waits forever. */
export function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what}: not done in ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
