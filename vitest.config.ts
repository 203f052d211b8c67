import { configDefaults, defineConfig } from 'vitest/config';
import { SlowFirstSequencer } from './test/sequencer.js';

/**
 * Files that get a fresh process each: the cluster suites spawn, SIGKILL and restart server
 * processes and databases, and the frozen-tab chaos suite pauses Chromium's renderers; a handle
 * one of them leaked would outlive its file. Every other file shares its worker's loaded modules
 * (`isolate: false`): loading the server, client, Socket.IO, Dexie, Playwright and their sources
 * once per worker instead of once per file was most of the run's import time, and the browser
 * harness then bundles each fixture once per worker (see CONTRIBUTING, "The test command"). A
 * shared file must leave no global state behind: fake-indexeddb is global there (database names
 * are unique per process), fake timers are restored in `afterEach`, browsers and servers closed.
 */
const ISOLATED = ['test/integration/cluster/**/*.test.ts', 'chaos/browser/**/*.test.ts'];

export default defineConfig({
  resolve: {
    // Workspace packages export their TypeScript sources under this condition: no build step
    // is needed to test.
    conditions: ['syncline-source'],
  },
  ssr: {
    resolve: {
      conditions: ['syncline-source'],
      externalConditions: ['syncline-source'],
    },
  },
  test: {
    testTimeout: 20_000,
    hookTimeout: 30_000,
    pool: 'forks',
    // Probes PostgreSQL/Redis on their default local ports and says which suites are skipped.
    globalSetup: ['test/global-setup.ts'],
    // Vitest defaults to one worker per core minus one: a single worker on a 2-core machine.
    // Two workers took a third less time there; three were no faster than two (see
    // CONTRIBUTING, "The test command"). `--maxWorkers` overrides it.
    maxWorkers: 2,
    sequence: { sequencer: SlowFirstSequencer },
    projects: [
      {
        extends: true,
        test: {
          name: 'shared',
          include: [
            'packages/*/src/**/*.test.ts',
            'packages/*/test/**/*.test.{ts,tsx}',
            'test/**/*.test.{ts,tsx}',
            'chaos/*.test.ts',
          ],
          exclude: [...configDefaults.exclude, ...ISOLATED],
          isolate: false,
          setupFiles: ['test/support/src/fake-indexeddb-first.ts'],
        },
      },
      { extends: true, test: { name: 'isolated', include: ISOLATED } },
    ],
  },
});
