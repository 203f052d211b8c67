/**
 * File order for `vitest run`: the known-long files start first, so that on two workers the run
 * does not end with one long file running alone. Vitest's own order (longest first from its
 * cache, else larger files first) only knows durations after a first run on this machine.
 * Browser files go last while `pnpm test` is still installing Chromium in the background.
 *
 * The `isolated` project's files (a fresh process each) run before the `shared` project's
 * (see vitest.config.ts), and files with their own `@vitest-environment` run at the very end:
 * vitest keeps a shared worker, with its loaded modules, only while the next file in the queue
 * is a shared one in the same environment, so interleaving them would reload everything.
 */
import { existsSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { BaseSequencer, type TestSpecification } from 'vitest/node';

/**
 * Slowest first within each project, from per-file durations of a full run (see CONTRIBUTING,
 * "The test command").
 */
export const SLOW_FILES: readonly string[] = [
  // The isolated project (these run first): the two randomized cluster runs, three server
  // processes each, as far apart as they can be.
  'test/integration/cluster/cluster-run.test.ts',
  'chaos/browser/frozen-tab.test.ts',
  'test/integration/cluster/cluster-pg-restart.test.ts',
  'test/integration/cluster/cluster-budgets.test.ts',
  'test/integration/cluster/cluster-presence.test.ts',
  'test/integration/cluster/cluster-fanout.test.ts',
  'test/integration/cluster/cluster-redis-restart.test.ts',
  'test/integration/cluster/cluster-run-redis.test.ts',
  // The shared project.
  'test/browser/demo.test.ts',
  'test/integration/client/adopt-existing.test.ts',
  'test/browser/client-sync.test.ts',
  'packages/server/test/cli.test.ts',
  'packages/server/test/storage.test.ts',
  'test/browser/client-api.test.ts',
  'packages/server/test/sinks-process.test.ts',
  'test/browser/presence.test.ts',
  'test/browser/values-and-keys.test.ts',
  'test/browser/adopt.test.ts',
  'packages/server/test/postgres-storage.test.ts',
  'test/integration/client/resilience.test.ts',
  'test/integration/client/random.test.ts',
  'test/integration/client/rejections.test.ts',
  'test/browser/harness.test.ts',
  'packages/server/test/secure-default.test.ts',
  'test/integration/client/conflicts.test.ts',
  'packages/server/test/crash-recovery.test.ts',
  'test/integration/client/push-pipeline.test.ts',
  'test/integration/client/telemetry.test.ts',
  'packages/server/test/health.test.ts',
];

export class SlowFirstSequencer extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const sorted = await super.sort(files);
    const root = this.ctx.config.root;
    const rank = (f: TestSpecification): number[] => {
      const path = relative(root, f.moduleId);
      const slow = SLOW_FILES.indexOf(path);
      return [
        path.startsWith('test/browser/') && chromiumPending ? 1 : 0,
        f.project.config.isolate ? 0 : 1,
        ownEnvironment(f.moduleId) ? 1 : 0,
        slow === -1 ? SLOW_FILES.length : slow,
      ];
    };
    const ranks = new Map(sorted.map((f) => [f, rank(f)]));
    const compare = (a: number[], b: number[]) => {
      for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return (a[i] ?? 0) - (b[i] ?? 0);
      return 0;
    };
    // Array.prototype.sort is stable: the rest keep vitest's order.
    return sorted.sort((a, b) => compare(ranks.get(a) ?? [], ranks.get(b) ?? []));
  }
}

/** Whether a test file names its own environment (e.g. jsdom) in a `@vitest-environment` comment. */
function ownEnvironment(file: string): boolean {
  try {
    return readFileSync(file, 'utf8').includes('@vitest-environment');
  } catch {
    return false;
  }
}

const chromiumPending =
  !existsSync(process.env['SYNCLINE_CHROMIUM'] ?? '/usr/bin/chromium') &&
  existsSync(
    join(process.env['SYNCLINE_CHROMIUM_INSTALL_DIR'] ?? join(tmpdir(), 'syncline-chromium-install'), 'pid'),
  );
