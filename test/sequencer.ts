/**
 * File order for `vitest run`: the known-long files start first, so that on two workers the run
 * does not end with one long file running alone. Vitest's own order (longest first from its
 * cache, else larger files first) only knows durations after a first run on this machine.
 * Browser files go last while `pnpm test` is still installing Chromium in the background.
 */
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { BaseSequencer, type TestSpecification } from 'vitest/node';

/**
 * Slowest first, from per-file durations of a full run (see CONTRIBUTING, "The test command");
 * the two randomized cluster runs (each three server processes) are kept apart by the next two.
 */
export const SLOW_FILES: readonly string[] = [
  'test/integration/cluster/cluster-run.test.ts',
  'test/browser/demo.test.ts',
  'packages/server/test/cli.test.ts',
  'test/integration/cluster/cluster-run-redis.test.ts',
  'test/integration/cluster/cluster-redis-restart.test.ts',
  'test/browser/client-sync.test.ts',
  'test/integration/cluster/cluster-fanout.test.ts',
  'test/integration/cluster/cluster-pg-restart.test.ts',
  'packages/server/test/sinks-process.test.ts',
  'packages/server/test/storage.test.ts',
  'packages/server/test/postgres-storage.test.ts',
  'test/integration/client/resilience.test.ts',
  'test/integration/client/telemetry.test.ts',
  'test/integration/client/random.test.ts',
  'packages/server/test/crash-recovery.test.ts',
  'test/integration/client/push-pipeline.test.ts',
  'test/integration/client/conflicts.test.ts',
  'packages/server/test/health.test.ts',
];

export class SlowFirstSequencer extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const sorted = await super.sort(files);
    const root = this.ctx.config.root;
    const rank = (f: TestSpecification) => {
      const path = relative(root, f.moduleId);
      const slow = SLOW_FILES.indexOf(path);
      if (path.startsWith('test/browser/') && chromiumPending) return SLOW_FILES.length + 1;
      return slow === -1 ? SLOW_FILES.length : slow;
    };
    // Array.prototype.sort is stable: the rest keep vitest's order.
    return sorted.sort((a, b) => rank(a) - rank(b));
  }
}

const chromiumPending =
  !existsSync(process.env['SYNCLINE_CHROMIUM'] ?? '/usr/bin/chromium') &&
  existsSync(
    join(process.env['SYNCLINE_CHROMIUM_INSTALL_DIR'] ?? join(tmpdir(), 'syncline-chromium-install'), 'pid'),
  );
