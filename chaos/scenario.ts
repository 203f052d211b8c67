/**
 * What a fault scenario is to the runner: a seeded function that builds a system, breaks it,
 * lets it heal and reports the shared checks (see checks.ts).
 */

/** One check of a run: its name, whether it held, and what was seen when it did not. */
export interface Check {
  readonly name: string;
  readonly ok: boolean;
  readonly detail?: string;
}

/** What one seeded run returns. */
export interface RunResult {
  readonly ok: boolean;
  readonly checks: readonly Check[];
  /** One line on what the run did (faults injected, writes made), for the log. */
  readonly details: string;
}

/** What a run gets from the runner. */
export interface RunContext {
  /** `SYNCLINE_PG_URL` (the machine's PostgreSQL), when set. */
  readonly pgUrl: string | undefined;
  /** `SYNCLINE_REDIS_URL`, when set. */
  readonly redisUrl: string | undefined;
  /**
   * Registers a clean-up (stop a process, drop a schema). The runner runs them in reverse order
   * when the run ends, fails or times out, so no run leaves anything behind.
   */
  defer(cleanup: () => unknown): void;
  /** Prints a line prefixed with the scenario and seed (with `--verbose`). */
  log(message: string): void;
}

/** What the runner needs before a scenario can run. */
export type Requirement = 'postgres' | 'redis' | 'chromium';

export interface Scenario {
  /** kebab-case, for `--only`. */
  readonly name: string;
  /** The fault, in one line. */
  readonly description: string;
  readonly needs: readonly Requirement[];
  /** Runs in `--quick` mode (CI). */
  readonly quickRuns: number;
  /**
   * Seeds that once failed, each with the fix that made it pass: `--quick` runs them too (after
   * the random ones), so a fixed bug stays fixed.
   */
  readonly regressionSeeds?: readonly number[];
  /** Share of the long mode's runs (relative weight; heavy scenarios run fewer times). */
  readonly longWeight: number;
  /** A run that takes longer fails with `timeout` (its clean-ups still run). */
  readonly timeoutMs: number;
  run(seed: number, ctx: RunContext): Promise<RunResult>;
  /** Releases what the runs shared (a private database), after the scenario's last run. */
  finish?(): Promise<void>;
}

/** A run's result from its checks. */
export function result(checks: readonly Check[], details: string): RunResult {
  return { ok: checks.every((c) => c.ok), checks, details };
}
