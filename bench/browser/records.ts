/**
 * The benchmark record: a ~250 B JSON card, the same shape in Node (seeding, served data) and in
 * the page (writes, checks). Deterministic, so a reader can check every value it was given.
 */
export interface BenchCard {
  readonly id: string;
  readonly board: string;
  readonly title: string;
  readonly notes: string;
  readonly status: string;
  readonly likes: number;
  /** Bumped on every write of the same id, so an observer can tell versions apart. */
  readonly rev: number;
}

/** Card `i` at revision `rev`. Its JSON is 240–260 bytes. */
export function benchCard(i: number, rev = 0, board = 'bench'): BenchCard {
  return {
    id: `c${String(i).padStart(7, '0')}`,
    board,
    title: `Card ${i}: ship the ${(i * 7919) % 997} widget`,
    notes: `rev ${rev} `.padEnd(120, 'lorem ipsum dolor sit amet ').slice(0, 120),
    status: ['todo', 'doing', 'done'][i % 3] ?? 'todo',
    likes: (i * 31 + rev) % 101,
    rev,
  };
}

/** The first field in which `got` differs from `want`, or undefined when they are equal. */
export function cardDiff(got: unknown, want: BenchCard): string | undefined {
  if (typeof got !== 'object' || got === null) return `expected a card, got ${String(got)}`;
  const record = got as Record<string, unknown>;
  for (const key of Object.keys(want) as (keyof BenchCard)[]) {
    if (record[key] !== want[key])
      return `${key}: got ${JSON.stringify(record[key])}, want ${JSON.stringify(want[key])}`;
  }
  return undefined;
}

/** The reads `verifyCards` needs of a stored table (a Dexie `Table` of cards has them). */
export interface CardReader {
  count(): Promise<number>;
  get(id: string): Promise<unknown>;
}

/**
 * B6's check of a bootstrapped table: resolves with the row count; throws unless it is `count`
 * and some spot-checked rows equal the seeded cards, so no variant is timed for storing the
 * wrong thing.
 */
export async function verifyCards(cards: CardReader, count: number): Promise<number> {
  const rows = await cards.count();
  if (rows !== count) throw new Error(`bootstrap stored ${rows} rows, want ${count}`);
  for (const i of [0, 1, Math.floor(count / 2), count - 1]) {
    const want = benchCard(i);
    const diff = cardDiff(await cards.get(want.id), want);
    if (diff !== undefined) throw new Error(`row ${want.id} is wrong: ${diff}`);
  }
  return rows;
}
