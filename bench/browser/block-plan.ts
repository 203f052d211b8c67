/**
 * How a browser benchmark spends its samples: variants take turns in blocks (a rotating order,
 * so machine noise hits them alike), the first block of each is warm-up, and on a busy machine
 * the run stops starting new rounds after a soft time budget instead of missing its hard
 * deadline: fewer samples, every variant with the same number of blocks, and the row says so.
 */
export interface BlockPlan {
  /** Rounds to run when time allows; each round runs one block of every variant. */
  readonly rounds: number;
  /** Soft budget in ms from `startedAt`: no new round starts after it (at least 2 rounds run). */
  readonly softBudgetMs: number;
  readonly startedAt: number;
}

/** Runs the rounds; `block(round, k)` runs the k-th variant's block of that round. */
export async function runRounds(
  plan: BlockPlan,
  variants: number,
  block: (round: number, k: number) => Promise<void>,
): Promise<number> {
  let done = 0;
  while (done < plan.rounds) {
    if (done >= 2 && performance.now() - plan.startedAt > plan.softBudgetMs) break;
    for (let k = 0; k < variants; k++) await block(done, (done + k) % variants);
    done++;
  }
  return done;
}
