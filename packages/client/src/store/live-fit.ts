// The one rule for a live message against the scope's cursor, decided inside the transaction
// that applies it (LocalStore.applyLive), so a concurrent pull cannot move the cursor between
// the check and the write.

/**
 * Where a live message whose changes follow version `after` stands against the scope's
 * `cursor`: `stale` if the cursor covers them all, `gap` if versions between the cursor and
 * `after` are missing, else `fresh` from index `skip` on (the ones the cursor does not cover).
 */
export function liveFit(
  cursor: number,
  after: number,
  count: number,
): 'stale' | 'gap' | { readonly skip: number } {
  if (after + count <= cursor) return 'stale';
  if (after > cursor) return 'gap';
  return { skip: cursor - after };
}
