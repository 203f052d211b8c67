/**
 * B5's offline workload, the same for every contender: 10,000 mutations (quick: 500), the
 * first 2,000 (quick: 100) create records, the rest (80 %) update them round-robin. Record
 * `c<k>` ends at `seq` = the last write that touched it.
 */
export interface OfflineWrite {
  readonly id: string;
  readonly seq: number;
  readonly create: boolean;
}

export function offlineWrites(quick: boolean): OfflineWrite[] {
  const total = quick ? 500 : 10_000;
  const records = total / 5;
  return Array.from({ length: total }, (_, seq) => ({ id: `c${seq % records}`, seq, create: seq < records }));
}

/** The final `seq` of every record after the workload. */
export function finalSeqs(writes: readonly OfflineWrite[]): Map<string, number> {
  const out = new Map<string, number>();
  for (const w of writes) out.set(w.id, w.seq);
  return out;
}

/** Fails loudly unless `actual` holds exactly the expected final seq of every record. */
export function assertFinal(what: string, expected: Map<string, number>, actual: Map<string, unknown>): void {
  let wrong = 0;
  for (const [id, seq] of expected) if (actual.get(id) !== seq) wrong++;
  if (wrong > 0 || actual.size !== expected.size)
    throw new Error(`${what}: ${wrong} of ${expected.size} records wrong (${actual.size} present)`);
}
